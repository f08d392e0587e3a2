import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { StreamingServer } from "../src/index.js";
import { startEchoServer, startServer, type Recorded } from "./support/fixtures.js";
import { WsTestClient } from "../src/testing/index.js";

let server: StreamingServer;
let rec: Recorded;
beforeEach(async () => ({ server, rec } = await startServer()));
afterEach(async () => server.close());

const BINARY = 2;
const TEXT = 1;

describe("exec and attach over WebSocket (channel.k8s.io)", () => {
  it("v4.channel.k8s.io: ready signal, fragmented stdin, ping/pong and the closing handshake", async () => {
    const url = server.getExecUrl({ containerId: "c", cmd: ["fail", "42"], stdin: true, stdout: true, stderr: true });
    const { client, response } = await WsTestClient.connect(url, ["v4.channel.k8s.io", "channel.k8s.io"]);
    expect(response.status, response.body).toBe(101);
    expect(client!.protocol).toBe("v4.channel.k8s.io");
    // The server first sends an empty message on stdout: the streams are ready.
    await client!.until((m) => m.length > 0);
    expect(client!.messages[0]).toEqual({ opcode: BINARY, data: Buffer.from([1]) });
    // A fragmented stdin message, with a ping in the middle (allowed between fragments).
    client!.send(BINARY, Buffer.from([0, ...Buffer.from("hel")]), false);
    client!.send(0x9, Buffer.from("p1"));
    client!.send(0x0, Buffer.from("lo"), true);
    // v4 has no half-close: the client's close frame ends stdin, and the session with it.
    await client!.until((m) => m.some((x) => x.opcode === 0xa));
    client!.send(0x8, Buffer.from([0x03, 0xe8]));
    await client!.closed;
    expect(client!.messages.find((x) => x.opcode === 0xa)?.data.toString()).toBe("p1");
    expect(client!.closeCode).toBe(1000);
    expect(rec.calls).toEqual(["exec c fail 42"]);
  });

  it("v5.channel.k8s.io: half-closing stdin ends the handler's input; exit status arrives", async () => {
    const url = server.getExecUrl({ containerId: "c", cmd: ["fail", "42"], stdin: true, stdout: true, stderr: true });
    const { client } = await WsTestClient.connect(url, ["v5.channel.k8s.io"]);
    client!.send(BINARY, Buffer.from([0, ...Buffer.from("input")]));
    client!.send(BINARY, Buffer.from([255, 0]));
    await client!.closed;
    expect(client!.channel(1).toString()).toBe("input");
    expect(client!.channel(2).toString()).toBe("failing on purpose\n");
    expect(JSON.parse(client!.channel(3).toString())).toMatchObject({
      status: "Failure",
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: "42" }] },
    });
    // Output channels were half-closed before the status.
    expect(client!.messages.some((m) => m.data[0] === 255 && m.data[1] === 1)).toBe(true);
  });

  it("v4.base64.channel.k8s.io: text frames with a digit channel and base64 payload, tty resize", async () => {
    const url = server.getExecUrl({ containerId: "c", cmd: ["resize", "1"], stdin: true, stdout: true, tty: true });
    const { client } = await WsTestClient.connect(url, ["v4.base64.channel.k8s.io"]);
    client!.send(TEXT, Buffer.from("4" + Buffer.from('{"Width":132,"Height":43}').toString("base64")));
    await client!.closed;
    expect(client!.channel64(1).toString()).toBe("132x43\n");
    expect(JSON.parse(client!.channel64(3).toString())).toEqual({ metadata: {}, status: "Success" });
    expect(rec.resizes).toEqual([{ width: 132, height: 43 }]);
  });

  it("channel.k8s.io (pre-v4): the error channel carries plain text, and nothing on success", async () => {
    const { client } = await WsTestClient.connect(server.getExecUrl({ containerId: "c", cmd: ["fail", "5"], stdout: true }), ["channel.k8s.io"]);
    await client!.closed;
    expect(client!.channel(3).toString()).toBe("command terminated with non-zero exit code: exit status 5");
    const ok = await WsTestClient.connect(server.getExecUrl({ containerId: "c", cmd: ["cat"], stdout: true }), []);
    expect(ok.client!.protocol).toBeUndefined();
    await ok.client!.closed;
    expect(ok.client!.channel(3).length).toBe(0);
  });

  it("attach over WebSocket", async () => {
    const { client } = await WsTestClient.connect(server.getAttachUrl({ containerId: "c7", stdout: true }), ["v4.channel.k8s.io"]);
    await client!.closed;
    expect(client!.channel(1).toString()).toBe("attached to c7\n");
  });
});

describe("port-forward over WebSocket", () => {
  it("announces the port on both channels and forwards to a real echo server", async () => {
    const echo = await startEchoServer();
    try {
      const url = server.getPortForwardUrl({ podSandboxId: "pod", port: [echo.port] });
      const { client } = await WsTestClient.connect(url, ["v4.channel.k8s.io"]);
      const portBytes = Buffer.alloc(2);
      portBytes.writeUInt16LE(echo.port);
      await client!.until((m) => m.filter((x) => x.opcode === BINARY).length >= 2);
      expect(client!.channel(0).equals(portBytes)).toBe(true);
      expect(client!.channel(1).equals(portBytes)).toBe(true);
      client!.send(BINARY, Buffer.from([0, ...Buffer.from("ping through the pod")]));
      await client!.until(() => client!.channel(0).length >= 2 + 20);
      expect(client!.channel(0).subarray(2).toString()).toBe("ping through the pod");
      client!.send(0x8, Buffer.from([0x03, 0xe8]));
      await client!.closed;
    } finally {
      await echo.close();
    }
  });

  it("takes the ports from ?port= when the request named none", async () => {
    const echo = await startEchoServer();
    try {
      const url = server.getPortForwardUrl({ podSandboxId: "pod" }) + `?port=${echo.port}`;
      const { client, response } = await WsTestClient.connect(url, ["v4.channel.k8s.io"]);
      expect(response.status).toBe(101);
      await client!.until((m) => m.length >= 2);
      client!.send(0x8, Buffer.from([0x03, 0xe8]));
      await client!.closed;
      expect(rec.calls).toEqual([`portforward pod ${echo.port}`]);
    } finally {
      await echo.close();
    }
  });
});
