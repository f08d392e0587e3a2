import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect } from "node:net";
import { once } from "node:events";
import type { StreamingServer } from "../src/index.js";
import { startServer } from "./support/fixtures.js";
import { SpdyTestClient } from "./support/spdy-test-client.js";
import { maskedFrame, upgrade, WsTestClient } from "../src/testing/index.js";

let server: StreamingServer;
beforeEach(async () => ({ server } = await startServer()));
afterEach(async () => server.close());

/** After each abuse, a normal exec must still work: the server did not fall over. */
async function stillServes(): Promise<void> {
  const { client } = await SpdyTestClient.connect(server.getExecUrl({ containerId: "c", cmd: ["cat"], stdin: true, stdout: true }), ["v4.channel.k8s.io"]);
  const error = client!.openStream({ streamType: "error" });
  const stdin = client!.openStream({ streamType: "stdin" });
  const stdout = client!.openStream({ streamType: "stdout" });
  stdin.write("ok");
  stdin.end();
  expect((await stdout.ended).data.toString()).toBe("ok");
  expect(JSON.parse((await error.ended).data.toString()).status).toBe("Success");
  client!.close();
}

describe("malformed input gets a clear answer and does not hurt the server", () => {
  it("an upgrade without X-Stream-Protocol-Version is a 400 that says so", async () => {
    const url = server.getExecUrl({ containerId: "c", cmd: ["cat"], stdout: true });
    const { socket, response } = await upgrade(url, { Connection: "Upgrade", Upgrade: "SPDY/3.1" });
    socket.destroy();
    expect(response.status).toBe(400);
    expect(response.body).toMatch(/X-Stream-Protocol-Version is required/);
    await stillServes();
  });

  it("an unknown stream protocol is a 403 listing what the server accepts", async () => {
    const { response } = await SpdyTestClient.connect(server.getExecUrl({ containerId: "c", cmd: ["cat"], stdout: true }), ["v9.channel.k8s.io"]);
    expect(response.status).toBe(403);
    expect(response.headers["x-accepted-stream-protocol-versions"]).toContain("v4.channel.k8s.io");
    await stillServes();
  });

  it("an upgrade to something else is a 400", async () => {
    const url = server.getExecUrl({ containerId: "c", cmd: ["cat"], stdout: true });
    const { socket, response } = await upgrade(url, { Connection: "Upgrade", Upgrade: "h2c" });
    socket.destroy();
    expect(response.status).toBe(400);
    expect(response.body).toMatch(/SPDY\/3\.1.*websocket/);
  });

  it("a websocket handshake with a bad key or version is rejected", async () => {
    const url = server.getExecUrl({ containerId: "c", cmd: ["cat"], stdout: true });
    const { socket, response } = await upgrade(url, { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "8", "Sec-WebSocket-Key": "x" }, "GET");
    socket.destroy();
    expect(response.status).toBe(426);
    await stillServes();
  });

  it("a frame of another SPDY version ends the session with GOAWAY(PROTOCOL_ERROR)", async () => {
    const { client } = await SpdyTestClient.connect(server.getExecUrl({ containerId: "c", cmd: ["cat"], stdout: true }), ["v4.channel.k8s.io"]);
    client!.writeRaw(Buffer.from([0x80, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0a, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
    expect(await client!.goaway).toBe(1);
    await client!.closed;
    await stillServes();
  });

  it("a header block that is not zlib ends the session with GOAWAY(PROTOCOL_ERROR)", async () => {
    const { client } = await SpdyTestClient.connect(server.getExecUrl({ containerId: "c", cmd: ["cat"], stdout: true }), ["v4.channel.k8s.io"]);
    const garbage = Buffer.from("this is not a compressed header block");
    const head = Buffer.alloc(18);
    head.writeUInt32BE(0x80030001, 0);
    head.writeUInt32BE(10 + garbage.length, 4);
    head.writeUInt32BE(1, 8);
    client!.writeRaw(Buffer.concat([head, garbage]));
    expect(await client!.goaway).toBe(1);
    await client!.closed;
    await stillServes();
  });

  it("random bytes after the upgrade do not crash anything", async () => {
    const { client } = await SpdyTestClient.connect(server.getExecUrl({ containerId: "c", cmd: ["cat"], stdout: true }), ["v4.channel.k8s.io"]);
    client!.writeRaw(Buffer.from("GET / HTTP/1.1\r\nHost: nonsense\r\n\r\n".repeat(20)));
    await client!.closed;
    await stillServes();
  });

  it("a client that never opens its streams is hung up on after the creation timeout", async () => {
    await server.close();
    // Its own server with a short creation timeout, so that other cases never race it under load.
    ({ server } = await startServer({ streamCreationTimeoutMs: 300 }));
    const { client } = await SpdyTestClient.connect(server.getExecUrl({ containerId: "c", cmd: ["cat"], stdin: true, stdout: true }), ["v4.channel.k8s.io"]);
    client!.openStream({ streamType: "error" });
    expect(await client!.goaway).toBe(0);
    await client!.closed;
  });

  it("an unmasked websocket frame is closed with 1002", async () => {
    const { client } = await WsTestClient.connect(server.getExecUrl({ containerId: "c", cmd: ["cat"], stdin: true, stdout: true }), ["v4.channel.k8s.io"]);
    client!.socket.write(Buffer.from([0x82, 0x02, 0x00, 0x41]));
    await client!.closed;
    expect(client!.closeCode).toBe(1002);
    await stillServes();
  });

  it("a client that vanishes mid-exec aborts the handler's signal", async () => {
    let aborted!: () => void;
    const sawAbort = new Promise<void>((r) => (aborted = r));
    await server.close();
    ({ server } = await startServer({
      handlers: {
        exec: (_id, _cmd, _s, signal) => new Promise((resolve) => signal.addEventListener("abort", () => (aborted(), resolve({ exitCode: 0 })))),
        attach: async () => {},
        portForward: async () => {},
      },
    }));
    const { client } = await SpdyTestClient.connect(server.getExecUrl({ containerId: "c", cmd: ["sleep"], stdout: true }), ["v4.channel.k8s.io"]);
    client!.openStream({ streamType: "error" });
    await client!.openStream({ streamType: "stdout" }).replied;
    client!.socket.destroy();
    await sawAbort;
  });

  it("closing the server cuts live sessions and aborts their handlers", async () => {
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    let sawAbort = false;
    await server.close();
    ({ server } = await startServer({
      handlers: {
        exec: (_id, _cmd, _s, signal) =>
          new Promise((resolve) => {
            started();
            signal.addEventListener("abort", () => {
              sawAbort = true;
              resolve({ exitCode: 0 });
            });
          }),
        attach: async () => {},
        portForward: async () => {},
      },
    }));
    const { client } = await WsTestClient.connect(server.getExecUrl({ containerId: "c", cmd: ["sleep"], stdout: true }), ["v4.channel.k8s.io"]);
    await running;
    await server.close();
    await client!.closed;
    expect(sawAbort).toBe(true);
    ({ server } = await startServer());
  });

  it("garbage that is not even HTTP gets a 400", async () => {
    const socket = connect(server.port, "127.0.0.1");
    await once(socket, "connect");
    socket.write("\x00\x01\x02 not http\r\n\r\n");
    const [data] = (await once(socket, "data")) as [Buffer];
    expect(data.toString()).toMatch(/^HTTP\/1\.1 400/);
    socket.destroy();
    await stillServes();
  });
});

describe("websocket frames from the test client are what RFC 6455 says", () => {
  it("masks and sizes frames", () => {
    const f = maskedFrame(2, Buffer.alloc(300));
    expect(f[0]).toBe(0x82);
    expect(f[1]).toBe(0x80 | 126);
    expect(f.readUInt16BE(2)).toBe(300);
  });
});
