// A minimal client of the kubelet's WebSocket streaming protocol (v4.channel.k8s.io), enough for
// exec and attach in tests: every message is binary, its first byte the channel (0 stdin,
// 1 stdout, 2 stderr, 3 error/status), client frames masked.
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import type { Socket } from "node:net";

export interface WsSession {
  /** Bytes received per channel. */
  readonly channels: Map<number, Buffer>;
  send(channel: number, data: Buffer | string): void;
  /** Resolves when the server closed the connection. */
  readonly closed: Promise<void>;
  close(): void;
}

export async function openWsSession(url: string, protocol = "v4.channel.k8s.io", query = ""): Promise<WsSession> {
  const u = new URL(url + query);
  const socket = await new Promise<Socket>((resolve, reject) => {
    const req = request({
      host: u.hostname,
      port: u.port,
      path: u.pathname + u.search,
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
        "Sec-WebSocket-Protocol": protocol,
      },
    });
    req.on("upgrade", (_res, sock, head) => {
      if (head.length > 0) sock.unshift(head);
      resolve(sock);
    });
    req.on("response", (res) => reject(new Error(`no upgrade: HTTP ${res.statusCode}`)));
    req.on("error", reject);
    req.end();
  });
  const channels = new Map<number, Buffer>();
  let pending = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      if (pending.length < 2) return;
      const opcode = pending[0]! & 0x0f;
      let len = pending[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (pending.length < 4) return;
        len = pending.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (pending.length < 10) return;
        len = Number(pending.readBigUInt64BE(2));
        off = 10;
      }
      if (pending.length < off + len) return;
      const payload = pending.subarray(off, off + len);
      pending = pending.subarray(off + len);
      if ((opcode === 1 || opcode === 2) && payload.length > 0) {
        const ch = payload[0]!;
        channels.set(ch, Buffer.concat([channels.get(ch) ?? Buffer.alloc(0), payload.subarray(1)]));
      }
    }
  });
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  const frame = (opcode: number, payload: Buffer) => {
    const mask = randomBytes(4);
    const head = payload.length < 126 ? Buffer.from([0x80 | opcode, 0x80 | payload.length]) : Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | 126]), Buffer.from([payload.length >> 8, payload.length & 0xff])]);
    const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
    socket.write(Buffer.concat([head, mask, masked]));
  };
  return {
    channels,
    closed,
    send: (channel, data) => frame(2, Buffer.concat([Buffer.from([channel]), Buffer.from(data)])),
    close: () => {
      frame(8, Buffer.alloc(0));
      socket.end();
    },
  };
}
