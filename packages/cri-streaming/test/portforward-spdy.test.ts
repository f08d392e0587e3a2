import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { StreamingServer } from "../src/index.js";
import { startEchoServer, startServer, type Recorded } from "./support/fixtures.js";
import { SpdyTestClient } from "./support/spdy-test-client.js";

let server: StreamingServer;
let rec: Recorded;
let echo: { port: number; close(): Promise<void> };
beforeEach(async () => {
  ({ server, rec } = await startServer());
  echo = await startEchoServer();
});
afterEach(async () => {
  await server.close();
  await echo.close();
});

async function connect(url: string): Promise<SpdyTestClient> {
  const { client, response } = await SpdyTestClient.connect(url, ["portforward.k8s.io"]);
  expect(response.status, response.body).toBe(101);
  expect(response.headers["x-stream-protocol-version"]).toBe("portforward.k8s.io");
  return client!;
}

/** One forwarded connection, the way client-go opens it: error stream (half-closed), then data. */
function forward(client: SpdyTestClient, port: number, requestId: number) {
  const headers = { port: String(port), requestID: String(requestId) };
  const error = client.openStream({ ...headers, streamType: "error" });
  error.end();
  const data = client.openStream({ ...headers, streamType: "data" });
  return { error, data };
}

describe("port-forward over SPDY/3.1 (portforward.k8s.io)", () => {
  it("forwards a TCP connection to a real echo server, both ways, until the client ends it", async () => {
    const client = await connect(server.getPortForwardUrl({ podSandboxId: "pod1", port: [echo.port] }));
    const { error, data } = forward(client, echo.port, 0);
    const payload = Buffer.alloc(500_000, "xyz");
    data.write(payload);
    data.end();
    const [echoed, err] = await Promise.all([data.ended, error.ended]);
    expect(echoed.data.equals(payload)).toBe(true);
    expect(err.data.toString()).toBe("");
    expect(rec.calls).toEqual([`portforward pod1 ${echo.port}`]);
    client.close();
  });

  it("carries several connections at once on one session", async () => {
    const client = await connect(server.getPortForwardUrl({ podSandboxId: "pod1" }));
    const conns = Array.from({ length: 20 }, (_, i) => ({ i, ...forward(client, echo.port, i) }));
    for (const c of conns) {
      c.data.write(`connection ${c.i} `.repeat(1000));
      c.data.end();
    }
    const results = await Promise.all(conns.map((c) => c.data.ended));
    results.forEach((r, i) => expect(r.data.toString()).toBe(`connection ${i} `.repeat(1000)));
    client.close();
  });

  it("reports a connection the handler cannot make on that request's error stream", async () => {
    const closed = await startEchoServer();
    const deadPort = closed.port;
    await closed.close();
    const client = await connect(server.getPortForwardUrl({ podSandboxId: "pod2" }));
    const { error, data } = forward(client, deadPort, 0);
    const [err] = await Promise.all([error.ended, data.ended]);
    expect(err.data.toString()).toMatch(new RegExp(`^error forwarding port ${deadPort} to pod pod2: .*ECONNREFUSED`));
    // The session survives: the next connection works.
    const ok = forward(client, echo.port, 1);
    ok.data.write("still alive");
    ok.data.end();
    expect((await ok.data.ended).data.toString()).toBe("still alive");
    client.close();
  });

  it("refuses a stream without a valid port header", async () => {
    const client = await connect(server.getPortForwardUrl({ podSandboxId: "pod1" }));
    const bad = client.openStream({ streamType: "data", port: "99999", requestID: "0" });
    expect((await bad.ended).reset).toBe(3); // REFUSED_STREAM
    client.close();
  });
});
