import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { StreamingServer } from "../src/index.js";
import { startServer, type Recorded } from "./support/fixtures.js";
import { SpdyTestClient, type ClientStream } from "./support/spdy-test-client.js";

let server: StreamingServer;
let rec: Recorded;
beforeEach(async () => ({ server, rec } = await startServer()));
afterEach(async () => server.close());

async function connect(url: string, protocol = "v4.channel.k8s.io"): Promise<SpdyTestClient> {
  const { client, response } = await SpdyTestClient.connect(url, [protocol, "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"]);
  expect(response.status, response.body).toBe(101);
  expect(response.headers["x-stream-protocol-version"]).toBe(protocol);
  expect(response.headers["upgrade"]).toBe("SPDY/3.1");
  return client!;
}

/** Opens streams in client-go's order: error, stdin, stdout, stderr, resize. */
function openStreams(client: SpdyTestClient, types: string[]): Record<string, ClientStream> {
  const out: Record<string, ClientStream> = {};
  for (const t of types) out[t] = client.openStream({ streamType: t });
  return out;
}

describe("exec over SPDY/3.1 (v4.channel.k8s.io)", () => {
  it("copies stdin to stdout, sends stderr, and reports a non-zero exit code as client-go expects", async () => {
    const url = server.getExecUrl({ containerId: "c1", cmd: ["fail", "3"], stdin: true, stdout: true, stderr: true });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/exec\/[A-Za-z0-9_-]+$/);
    const client = await connect(url);
    const s = openStreams(client, ["error", "stdin", "stdout", "stderr"]);
    await s.stdin!.replied;
    const input = Buffer.alloc(300_000, "abc");
    s.stdin!.write(input);
    s.stdin!.end();
    const [out, err, status] = await Promise.all([s.stdout!.ended, s.stderr!.ended, s.error!.ended]);
    expect(out.data.equals(input)).toBe(true);
    expect(err.data.toString()).toBe("failing on purpose\n");
    const parsed = JSON.parse(status.data.toString());
    expect(parsed).toMatchObject({
      status: "Failure",
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: "3" }] },
    });
    expect(await client.goaway).toBe(0);
    expect(rec.calls).toEqual(["exec c1 fail 3"]);
    client.close();
  });

  it("reports success as a Success status", async () => {
    const client = await connect(server.getExecUrl({ containerId: "c1", cmd: ["cat"], stdin: true, stdout: true }));
    const s = openStreams(client, ["error", "stdin", "stdout"]);
    s.stdin!.write("hello");
    s.stdin!.end();
    const [out, status] = await Promise.all([s.stdout!.ended, s.error!.ended]);
    expect(out.data.toString()).toBe("hello");
    expect(JSON.parse(status.data.toString())).toEqual({ metadata: {}, status: "Success" });
    client.close();
  });

  it("turns a handler failure into an InternalError status", async () => {
    const client = await connect(server.getExecUrl({ containerId: "gone", cmd: ["crash"], stdout: true }));
    const s = openStreams(client, ["error", "stdout"]);
    const status = JSON.parse((await s.error!.ended).data.toString());
    expect(status).toMatchObject({ status: "Failure", reason: "InternalError", code: 500 });
    expect(status.message).toContain("no such container: gone");
    client.close();
  });

  it("speaks the older protocols: v2 gets the error as text, and nothing on success", async () => {
    let client = await connect(server.getExecUrl({ containerId: "c", cmd: ["fail", "2"], stdout: true }), "v2.channel.k8s.io");
    let s = openStreams(client, ["error", "stdout"]);
    expect((await s.error!.ended).data.toString()).toBe("command terminated with non-zero exit code: exit status 2");
    client.close();
    client = await connect(server.getExecUrl({ containerId: "c", cmd: ["cat"], stdout: true }), "v2.channel.k8s.io");
    s = openStreams(client, ["error", "stdout"]);
    expect((await s.error!.ended).data.length).toBe(0);
    client.close();
  });

  it("delivers terminal resize events for a tty (v4 resize stream, Go's JSON encoding)", async () => {
    const client = await connect(server.getExecUrl({ containerId: "c", cmd: ["resize", "2"], stdin: true, stdout: true, tty: true }));
    const s = openStreams(client, ["error", "stdin", "stdout", "resize"]);
    await s.resize!.replied;
    // Split across frames on purpose; client-go writes one object per line.
    s.resize!.write('{"Width":80,"Height":24}\n{"Width":1');
    s.resize!.write('20,"Height":40}\n');
    const [out, status] = await Promise.all([s.stdout!.ended, s.error!.ended]);
    expect(out.data.toString()).toBe("80x24\n120x40\n");
    expect(rec.resizes).toEqual([{ width: 80, height: 24 }, { width: 120, height: 40 }]);
    expect(JSON.parse(status.data.toString()).status).toBe("Success");
    client.close();
  });

  it("attaches with stdin and stdout", async () => {
    const client = await connect(server.getAttachUrl({ containerId: "c9", stdin: true, stdout: true }));
    const s = openStreams(client, ["error", "stdin", "stdout"]);
    s.stdin!.write("typed");
    s.stdin!.end();
    const [out, status] = await Promise.all([s.stdout!.ended, s.error!.ended]);
    expect(out.data.toString()).toBe("attached to c9\ntyped");
    expect(JSON.parse(status.data.toString()).status).toBe("Success");
    expect(rec.calls).toEqual(["attach c9"]);
    client.close();
  });

  it("answers the client's pings and credits its windows as data is read", async () => {
    const client = await connect(server.getExecUrl({ containerId: "c", cmd: ["cat"], stdin: true, stdout: true }));
    const s = openStreams(client, ["error", "stdin", "stdout"]);
    client.ping(7);
    // More than the stream's read buffer, so the server must wait for its reader and credit it.
    for (let i = 0; i < 10; i++) s.stdin!.write(Buffer.alloc(60_000, i));
    s.stdin!.end();
    expect((await s.stdout!.ended).data.length).toBe(600_000);
    await s.error!.ended;
    expect(client.pings).toEqual([7]);
    expect(client.windowUpdates.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    client.close();
  });
});
