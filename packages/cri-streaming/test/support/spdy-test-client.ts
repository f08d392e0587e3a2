// A deliberately small SPDY/3.1 client for tests, written apart from the server's code: its own
// frame encoding, and header compression through one long-lived zlib stream (the way Go's
// spdystream does it) rather than the server's per-block scheme. The real-client check is
// crictl/critest (client-go), which the lead runs.
import type { Socket } from "node:net";
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from "node:zlib";
import { SPDY3_HEADER_DICTIONARY } from "../../src/index.js";
import { upgrade, type UpgradeResult } from "../../src/testing/index.js";


export interface ClientStream {
  id: number;
  replied: Promise<void>;
  /** Resolves with everything received once the server ends (FIN) or resets the stream. */
  ended: Promise<{ data: Buffer; reset: number | undefined }>;
  received(): Buffer;
  write(data: Buffer | string): void;
  end(): void;
}

function zlibStep(z: Deflate | Inflate, input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const onData = (c: Buffer): void => void out.push(c);
    z.on("data", onData);
    z.once("error", reject);
    z.write(input);
    z.flush(constants.Z_SYNC_FLUSH, () => {
      z.off("data", onData);
      z.off("error", reject);
      resolve(Buffer.concat(out));
    });
  });
}

function headerBlock(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  const n = Buffer.alloc(4);
  n.writeUInt32BE(Object.keys(headers).length);
  parts.push(n);
  for (const [k, v] of Object.entries(headers)) {
    for (const s of [k.toLowerCase(), v]) {
      const b = Buffer.from(s);
      const l = Buffer.alloc(4);
      l.writeUInt32BE(b.length);
      parts.push(l, b);
    }
  }
  return Buffer.concat(parts);
}

function control(type: number, flags: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x8003, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt32BE(((flags << 24) | payload.length) >>> 0, 4);
  return Buffer.concat([h, payload]);
}

function dataFrame(id: number, flags: number, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(id, 0);
  h.writeUInt32BE(((flags << 24) | data.length) >>> 0, 4);
  return Buffer.concat([h, data]);
}

export class SpdyTestClient {
  private readonly deflate = createDeflate({ dictionary: SPDY3_HEADER_DICTIONARY });
  private readonly inflate = createInflate({ dictionary: SPDY3_HEADER_DICTIONARY });
  private compressChain: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private buf = Buffer.alloc(0);
  private readonly streams = new Map<number, { chunks: Buffer[]; onReply: () => void; onEnd: (reset?: number) => void }>();
  private processing: Promise<void> = Promise.resolve();
  readonly goaway: Promise<number>;
  private resolveGoaway!: (status: number) => void;
  readonly closed: Promise<void>;
  readonly pings: number[] = [];
  readonly windowUpdates: number[] = [];

  constructor(readonly socket: Socket, rest: Buffer) {
    this.goaway = new Promise((r) => (this.resolveGoaway = r));
    this.closed = new Promise((r) => socket.once("close", () => r()));
    socket.on("data", (c: Buffer) => this.feed(c));
    socket.on("error", () => {});
    socket.on("close", () => {
      // After every frame already received has been handled.
      this.processing = this.processing.then(() => {
        for (const s of this.streams.values()) s.onEnd();
      });
    });
    if (rest.length) this.feed(rest);
    socket.resume();
  }

  static async connect(url: string, protocols: string[], extra: Record<string, string> = {}): Promise<{ client?: SpdyTestClient; response: UpgradeResult }> {
    const { socket, response, rest } = await upgrade(url, {
      Connection: "Upgrade",
      Upgrade: "SPDY/3.1",
      "X-Stream-Protocol-Version": protocols,
      ...extra,
    });
    if (response.status !== 101) {
      socket.destroy();
      return { response };
    }
    return { client: new SpdyTestClient(socket, rest), response };
  }

  /** Raw bytes straight onto the connection (for malformed-frame tests). */
  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  openStream(headers: Record<string, string>, fin = false): ClientStream {
    const id = this.nextId;
    this.nextId += 2;
    const chunks: Buffer[] = [];
    let onReply!: () => void;
    let onEnd!: (reset?: number) => void;
    const replied = new Promise<void>((r) => (onReply = r));
    const ended = new Promise<{ data: Buffer; reset: number | undefined }>((r) => {
      let done = false;
      onEnd = (reset?: number) => {
        if (done) return;
        done = true;
        r({ data: Buffer.concat(chunks), reset });
      };
    });
    this.streams.set(id, { chunks, onReply, onEnd });
    // Frames must leave in order, and compression is async: chain every write.
    this.compressChain = this.compressChain.then(async () => {
      const block = await zlibStep(this.deflate, headerBlock(headers));
      const fixed = Buffer.alloc(10);
      fixed.writeUInt32BE(id, 0);
      this.socket.write(control(1, fin ? 1 : 0, Buffer.concat([fixed, block])));
    });
    return {
      id,
      replied,
      ended,
      received: () => Buffer.concat(chunks),
      write: (data) => this.queue(dataFrame(id, 0, Buffer.from(data))),
      end: () => this.queue(dataFrame(id, 1, Buffer.alloc(0))),
    };
  }

  ping(id: number): void {
    this.queue(control(6, 0, Buffer.from([id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff])));
  }

  reset(id: number): void {
    const p = Buffer.alloc(8);
    p.writeUInt32BE(id, 0);
    p.writeUInt32BE(5, 4);
    this.queue(control(3, 0, p));
  }

  close(): void {
    this.socket.end();
  }

  private queue(frame: Buffer): void {
    this.compressChain = this.compressChain.then(() => void this.socket.write(frame));
  }

  private feed(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    const frames: Buffer[] = [];
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32BE(4) & 0xffffff;
      if (this.buf.length < 8 + len) break;
      frames.push(this.buf.subarray(0, 8 + len));
      this.buf = this.buf.subarray(8 + len);
    }
    for (const f of frames) this.processing = this.processing.then(() => this.handle(f));
  }

  private async handle(f: Buffer): Promise<void> {
    const first = f.readUInt32BE(0);
    const flags = f[4]!;
    const payload = f.subarray(8);
    if (!(first & 0x80000000)) {
      const s = this.streams.get(first);
      if (!s) return;
      if (payload.length) s.chunks.push(Buffer.from(payload));
      if (flags & 1) s.onEnd();
      return;
    }
    const type = first & 0xffff;
    const id = payload.length >= 4 ? payload.readUInt32BE(0) & 0x7fffffff : 0;
    if (type === 2 || type === 8) {
      await zlibStep(this.inflate, payload.subarray(4));
      if (type === 2) this.streams.get(id)?.onReply();
      if (flags & 1) this.streams.get(id)?.onEnd();
    } else if (type === 3) {
      const s = this.streams.get(id);
      s?.onReply();
      s?.onEnd(payload.readUInt32BE(4));
    } else if (type === 6) {
      this.pings.push(payload.readUInt32BE(0));
    } else if (type === 7) {
      this.resolveGoaway(payload.readUInt32BE(4));
    } else if (type === 9) {
      this.windowUpdates.push(payload.readUInt32BE(4));
    }
  }
}
