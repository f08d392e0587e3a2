import { afterEach, describe, expect, it } from "vitest";
import { classOf } from "@berth/core";
import { RequestCache, type StreamingServer } from "../src/index.js";
import { startServer } from "./support/fixtures.js";
import { SpdyTestClient } from "./support/spdy-test-client.js";
import { upgrade } from "../src/testing/index.js";

let server: StreamingServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const PROTOCOLS = ["v4.channel.k8s.io"];

describe("streaming URLs", () => {
  it("are single-use: a second upgrade of the same URL gets 404 with a clear reason", async () => {
    ({ server } = await startServer());
    const url = server.getExecUrl({ containerId: "c", cmd: ["cat"], stdout: true });
    const first = await SpdyTestClient.connect(url, PROTOCOLS);
    expect(first.response.status).toBe(101);
    const second = await SpdyTestClient.connect(url, PROTOCOLS);
    expect(second.response.status).toBe(404);
    expect(second.response.body).toMatch(/token is unknown, already used or expired/);
    first.client!.openStream({ streamType: "error" });
    first.client!.openStream({ streamType: "stdout" });
    await first.client!.closed;
  });

  it("expire after their TTL (the server's clock is injected: no waiting)", async () => {
    let now = 1_000_000;
    ({ server } = await startServer({ tokenTtlMs: 60_000, now: () => now }));
    const fresh = server.getExecUrl({ containerId: "c", cmd: ["cat"], stdout: true });
    const stale = server.getExecUrl({ containerId: "c", cmd: ["cat"], stdout: true });
    now += 59_000;
    const ok = await SpdyTestClient.connect(fresh, PROTOCOLS);
    expect(ok.response.status).toBe(101);
    ok.client!.close();
    now += 2_000;
    const late = await SpdyTestClient.connect(stale, PROTOCOLS);
    expect(late.response.status).toBe(404);
  });

  it("are spent by a plain request too, which is told to upgrade", async () => {
    ({ server } = await startServer());
    const url = server.getAttachUrl({ containerId: "c", stdout: true });
    const res = await fetch(url);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/must be upgraded/);
    expect((await SpdyTestClient.connect(url, PROTOCOLS)).response.status).toBe(404);
  });

  it("only open the kind of session they were made for", async () => {
    ({ server } = await startServer());
    const url = server.getExecUrl({ containerId: "c", cmd: ["cat"], stdout: true });
    const wrong = url.replace("/exec/", "/attach/");
    expect((await SpdyTestClient.connect(wrong, PROTOCOLS)).response.status).toBe(404);
  });

  it("validate requests the way the kubelet does, as InvalidArgument", async () => {
    ({ server } = await startServer());
    const s = server;
    const cases: (() => unknown)[] = [
      () => s.getExecUrl({ containerId: "", cmd: ["x"], stdout: true }),
      () => s.getExecUrl({ containerId: "c", cmd: ["x"], tty: true, stderr: true, stdout: true }),
      () => s.getExecUrl({ containerId: "c", cmd: ["x"] }),
      () => s.getAttachUrl({ containerId: "c" }),
      () => s.getPortForwardUrl({ podSandboxId: "" }),
      () => s.getPortForwardUrl({ podSandboxId: "p", port: [0] }),
    ];
    for (const c of cases) {
      let err: unknown;
      try {
        c();
      } catch (e) {
        err = e;
      }
      expect(classOf(err)).toBe("InvalidArgument");
    }
  });

  it("are bounded in number: past the limit the server says ResourceExhausted", async () => {
    const cache = new RequestCache<number>({ maxInFlight: 3 });
    cache.insert(1);
    cache.insert(2);
    const t = cache.insert(3);
    expect(() => cache.insert(4)).toThrow(/maximum number of in-flight/);
    try {
      cache.insert(4);
    } catch (e) {
      expect(classOf(e)).toBe("ResourceExhausted");
    }
    expect(cache.consume(t)).toBe(3);
    expect(cache.insert(5)).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });

  it("is a raw HTTP check too: unknown paths are 404", async () => {
    ({ server } = await startServer());
    const { socket, response } = await upgrade(`${server.url}/nothing/here`, { Connection: "Upgrade", Upgrade: "SPDY/3.1" });
    socket.destroy();
    expect(response.status).toBe(404);
  });
});
