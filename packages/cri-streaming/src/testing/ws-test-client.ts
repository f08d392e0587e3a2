// A minimal WebSocket client for tests (RFC 6455 client side: masked frames, reassembly).
import { createHash, randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { upgrade, type UpgradeResult } from "./http-upgrade.js";

export interface WsMessage {
  opcode: number;
  data: Buffer;
}

export function maskedFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const mask = randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0, len]) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  if (len >= 126 && len < 65536) {
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else if (len >= 65536) {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  head[0] = (fin ? 0x80 : 0) | opcode;
  head[1] = head[1]! | 0x80;
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ mask[i % 4]!;
  return Buffer.concat([head, mask, body]);
}

export class WsTestClient {
  private buf = Buffer.alloc(0);
  private partial: Buffer[] = [];
  private partialOpcode = 0;
  readonly messages: WsMessage[] = [];
  private waiters: (() => void)[] = [];
  readonly closed: Promise<void>;
  closeCode: number | undefined;

  constructor(readonly socket: Socket, rest: Buffer, readonly protocol: string | undefined) {
    this.closed = new Promise((r) => socket.once("close", () => r()));
    socket.on("data", (c: Buffer) => this.feed(c));
    socket.on("error", () => {});
    socket.on("close", () => this.wake());
    if (rest.length) this.feed(rest);
    socket.resume();
  }

  static async connect(url: string, protocols: string[]): Promise<{ client?: WsTestClient; response: UpgradeResult }> {
    const key = randomBytes(16).toString("base64");
    const headers: Record<string, string> = {
      Connection: "Upgrade",
      Upgrade: "websocket",
      "Sec-WebSocket-Version": "13",
      "Sec-WebSocket-Key": key,
    };
    if (protocols.length) headers["Sec-WebSocket-Protocol"] = protocols.join(", ");
    const { socket, response, rest } = await upgrade(url, headers, "GET");
    if (response.status !== 101) {
      socket.destroy();
      return { response };
    }
    const expected = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
    if (response.headers["sec-websocket-accept"] !== expected) throw new Error("bad Sec-WebSocket-Accept");
    return { client: new WsTestClient(socket, rest, response.headers["sec-websocket-protocol"]), response };
  }

  send(opcode: number, payload: Buffer, fin = true): void {
    this.socket.write(maskedFrame(opcode, payload, fin));
  }

  /** Waits until `pred` holds over the messages received so far, or the socket closes. */
  async until(pred: (msgs: WsMessage[]) => boolean): Promise<WsMessage[]> {
    while (!pred(this.messages)) {
      if (this.socket.destroyed) break;
      await new Promise<void>((r) => this.waiters.push(r));
    }
    return this.messages;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private feed(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const b = this.buf;
      if (b.length < 2) break;
      let len = b[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      if (b.length < off + len) break;
      const fin = (b[0]! & 0x80) !== 0;
      const opcode = b[0]! & 0x0f;
      const payload = Buffer.from(b.subarray(off, off + len));
      this.buf = b.subarray(off + len);
      if (opcode === 0x8) {
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.messages.push({ opcode, data: payload });
        this.socket.end();
      } else if (opcode === 0x9 || opcode === 0xa) {
        this.messages.push({ opcode, data: payload });
      } else {
        if (opcode !== 0) this.partialOpcode = opcode;
        this.partial.push(payload);
        if (fin) {
          this.messages.push({ opcode: this.partialOpcode, data: Buffer.concat(this.partial) });
          this.partial = [];
        }
      }
    }
    this.wake();
  }

  /** Payloads received on channel `n` (binary protocol), concatenated. */
  channel(n: number): Buffer {
    return Buffer.concat(this.messages.filter((m) => m.opcode === 2 && m.data[0] === n).map((m) => m.data.subarray(1)));
  }

  /** Same for the base64 protocol. */
  channel64(n: number): Buffer {
    return Buffer.concat(
      this.messages.filter((m) => m.opcode === 1 && m.data[0] === 48 + n).map((m) => Buffer.from(m.data.subarray(1).toString(), "base64")),
    );
  }
}
