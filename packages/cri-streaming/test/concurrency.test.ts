import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { StreamingServer } from "../src/index.js";
import { startEchoServer, startServer } from "./support/fixtures.js";
import { SpdyTestClient } from "./support/spdy-test-client.js";
import { WsTestClient } from "../src/testing/index.js";

let server: StreamingServer;
beforeEach(async () => ({ server } = await startServer()));
afterEach(async () => server.close());

async function spdyExec(i: number): Promise<void> {
  const url = server.getExecUrl({ containerId: `c${i}`, cmd: ["fail", String(i % 256)], stdin: true, stdout: true, stderr: true });
  const { client } = await SpdyTestClient.connect(url, ["v4.channel.k8s.io"]);
  const error = client!.openStream({ streamType: "error" });
  const stdin = client!.openStream({ streamType: "stdin" });
  const stdout = client!.openStream({ streamType: "stdout" });
  const stderr = client!.openStream({ streamType: "stderr" });
  const input = Buffer.alloc(20_000 + i, String.fromCharCode(97 + (i % 26)));
  stdin.write(input);
  stdin.end();
  const [out, err, status] = await Promise.all([stdout.ended, stderr.ended, error.ended]);
  expect(out.data.equals(input)).toBe(true);
  expect(err.data.toString()).toBe("failing on purpose\n");
  const parsed = JSON.parse(status.data.toString());
  if (i % 256 === 0) expect(parsed.status).toBe("Success");
  else expect(parsed.details.causes[0].message).toBe(String(i % 256));
  client!.close();
}

async function wsExec(i: number): Promise<void> {
  const url = server.getExecUrl({ containerId: `w${i}`, cmd: ["fail", "1"], stdin: true, stdout: true });
  const { client } = await WsTestClient.connect(url, ["v5.channel.k8s.io"]);
  client!.send(2, Buffer.from([0, ...Buffer.from(`ws ${i}`)]));
  client!.send(2, Buffer.from([255, 0]));
  await client!.closed;
  expect(client!.channel(1).toString()).toBe(`ws ${i}`);
  expect(JSON.parse(client!.channel(3).toString()).reason).toBe("NonZeroExitCode");
}

describe("many sessions and streams at once", () => {
  it("serves 60 concurrent exec sessions (SPDY and WebSocket mixed) without mixing them up", async () => {
    await Promise.all([...Array.from({ length: 40 }, (_, i) => spdyExec(i)), ...Array.from({ length: 20 }, (_, i) => wsExec(i))]);
  });

  it("carries 100 concurrent forwarded connections on 4 port-forward sessions", async () => {
    const echo = await startEchoServer();
    try {
      const sessions = await Promise.all(
        Array.from({ length: 4 }, async () => (await SpdyTestClient.connect(server.getPortForwardUrl({ podSandboxId: "p" }), ["portforward.k8s.io"])).client!),
      );
      const conns = Array.from({ length: 100 }, (_, i) => {
        const client = sessions[i % 4]!;
        const headers = { port: String(echo.port), requestID: String(i) };
        const error = client.openStream({ ...headers, streamType: "error" });
        error.end();
        const data = client.openStream({ ...headers, streamType: "data" });
        const payload = Buffer.from(`[${i}]`.repeat(2000 + i));
        data.write(payload);
        data.end();
        return { data, payload };
      });
      for (const c of conns) expect((await c.data.ended).data.equals(c.payload)).toBe(true);
      for (const s of sessions) s.close();
    } finally {
      await echo.close();
    }
  });
});
