// A hand-driven HTTP/2 client for tests: it sends header blocks written byte by byte (to choose
// each HPACK representation) over a real socket and reports what the server answered per stream.
import { connect, type Socket } from "node:net";
import { CLIENT_MAGIC, FRAME_HEADER_LENGTH, Flags, FrameType, encodeFrameHeader, readFrameHeader, type FrameHeader } from "../src/frames.js";
import { HpackDecoder, writeInteger, type HeaderField } from "../src/hpack.js";
import { huffmanEncode } from "../src/huffman.js";

export function encodeInteger(value: number, prefixBits: number, high = 0): Buffer {
  const out = Buffer.alloc(8);
  return out.subarray(0, writeInteger(out, 0, value, prefixBits, high));
}

export function encodePlainString(value: Uint8Array): Buffer {
  return Buffer.concat([encodeInteger(value.length, 7), value]);
}

/** HPACK representations (RFC 7541 §6), each as the octets that encode it. */
export const hpack = {
  indexed: (index: number) => encodeInteger(index, 7, 0x80),
  sizeUpdate: (size: number) => encodeInteger(size, 5, 0x20),
  /** A literal value with an indexed name; `mode` picks the §6.2 representation. */
  literal(nameIndex: number, value: string, opts: { huffman?: boolean; mode?: "incremental" | "without" | "never" } = {}) {
    const mode = opts.mode ?? "incremental";
    const prefix = mode === "incremental" ? encodeInteger(nameIndex, 6, 0x40) : encodeInteger(nameIndex, 4, mode === "never" ? 0x10 : 0);
    return Buffer.concat([prefix, str(value, opts.huffman ?? false)]);
  },
  /** A literal name and value (name index 0). */
  literalName(name: string, value: string, opts: { huffman?: boolean; mode?: "incremental" | "without" | "never" } = {}) {
    const mode = opts.mode ?? "incremental";
    const first = mode === "incremental" ? 0x40 : mode === "never" ? 0x10 : 0;
    return Buffer.concat([Buffer.from([first]), str(name, opts.huffman ?? false), str(value, opts.huffman ?? false)]);
  },
};

function str(value: string, huffman: boolean): Buffer {
  const bytes = Buffer.from(value, "latin1");
  if (!huffman) return encodePlainString(bytes);
  const coded = huffmanEncode(bytes);
  return Buffer.concat([encodeInteger(coded.length, 7, 0x80), coded]);
}

/** Static-table fields of a POST request: :method POST, :scheme http, a :path literal. */
export function requestStart(path: string): Buffer {
  return Buffer.concat([hpack.indexed(3), hpack.indexed(6), hpack.literal(4, path, { mode: "without" })]);
}

export interface StreamOutcome {
  streamId: number;
  /** "response": a HEADERS frame came back; "reset": RST_STREAM with `code`. */
  kind: "response" | "reset";
  code?: number;
  /** The first header block the server sent on the stream (for a response). */
  headers?: HeaderField[];
}

export class RawHttp2Client {
  private buffer = Buffer.alloc(0);
  private waiters = new Map<number, (outcome: StreamOutcome) => void>();
  private outcomes = new Map<number, StreamOutcome>();
  /** Every frame header the server sent, in order. */
  readonly received: FrameHeader[] = [];
  goaway: { code: number } | undefined;
  closed = false;
  nextStreamId = 1;
  private writing = Promise.resolve();
  /** The server's header blocks are read with a decoder of our own (the server never indexes). */
  private readonly decoder = new HpackDecoder();

  private constructor(
    readonly socket: Socket,
    private readonly drip: boolean,
  ) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
      for (const [id, resolve] of this.waiters) resolve({ streamId: id, kind: "reset", code: -1 });
      this.waiters.clear();
    });
  }

  /** Connects and sends the client preface (magic and an empty SETTINGS). */
  static async open(path: string, opts: { drip?: boolean } = {}): Promise<RawHttp2Client> {
    const socket = connect(path);
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const client = new RawHttp2Client(socket, opts.drip ?? false);
    await client.send(Buffer.concat([CLIENT_MAGIC, encodeFrameHeader({ length: 0, type: FrameType.SETTINGS, flags: 0, streamId: 0 })]));
    return client;
  }

  /**
   * Writes `bytes` after everything sent before (our SETTINGS ACKs included, so they never
   * land inside another frame); with `drip`, a byte per write with a turn of the event loop
   * between.
   */
  private send(bytes: Buffer): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (!this.drip) {
        this.socket.write(bytes);
        return;
      }
      for (let i = 0; i < bytes.length && !this.closed; i++) {
        this.socket.write(bytes.subarray(i, i + 1));
        await new Promise((r) => setImmediate(r));
      }
    });
    return this.writing;
  }

  /** Sends a complete request header block split into `fragments` (HEADERS + CONTINUATIONs). */
  request(block: Buffer, opts: { split?: number; padded?: number; priority?: boolean; endStream?: boolean } = {}): Promise<StreamOutcome> {
    const streamId = this.nextStreamId;
    this.nextStreamId += 2;
    const pieces: Buffer[] = [];
    const split = opts.split ?? block.length;
    for (let at = 0; at < block.length || pieces.length === 0; at += split) pieces.push(block.subarray(at, at + split));
    const frames: Buffer[] = [];
    pieces.forEach((piece, i) => {
      const last = i === pieces.length - 1;
      if (i === 0) {
        const pad = opts.padded;
        const head: Buffer[] = [];
        if (pad !== undefined) head.push(Buffer.from([pad]));
        if (opts.priority) head.push(Buffer.from([0, 0, 0, 0, 15]));
        const payload = Buffer.concat([...head, piece, Buffer.alloc(pad ?? 0)]);
        const flags = (opts.endStream === false ? 0 : Flags.END_STREAM) | (last ? Flags.END_HEADERS : 0) | (pad !== undefined ? Flags.PADDED : 0) | (opts.priority ? Flags.PRIORITY : 0);
        frames.push(encodeFrameHeader({ length: payload.length, type: FrameType.HEADERS, flags, streamId }), payload);
      } else {
        frames.push(encodeFrameHeader({ length: piece.length, type: FrameType.CONTINUATION, flags: last ? Flags.END_HEADERS : 0, streamId }), piece);
      }
    });
    const outcome = new Promise<StreamOutcome>((resolve) => {
      const known = this.outcomes.get(streamId);
      if (known) resolve(known);
      else this.waiters.set(streamId, resolve);
    });
    void this.send(Buffer.concat(frames));
    return outcome;
  }

  /** Sends raw bytes (frames built by the test) after everything queued before. */
  sendRaw(bytes: Buffer): Promise<void> {
    return this.send(bytes);
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= FRAME_HEADER_LENGTH) {
      const header = readFrameHeader(this.buffer, 0);
      const end = FRAME_HEADER_LENGTH + header.length;
      if (this.buffer.length < end) break;
      const payload = this.buffer.subarray(FRAME_HEADER_LENGTH, end);
      this.buffer = this.buffer.subarray(end);
      this.received.push(header);
      if (header.type === FrameType.SETTINGS && !(header.flags & Flags.ACK)) {
        void this.send(encodeFrameHeader({ length: 0, type: FrameType.SETTINGS, flags: Flags.ACK, streamId: 0 }));
      } else if (header.type === FrameType.HEADERS) {
        const headers = this.decoder.decode(payload);
        this.settle({ streamId: header.streamId, kind: "response", headers });
      } else if (header.type === FrameType.RST_STREAM) {
        this.settle({ streamId: header.streamId, kind: "reset", code: payload.readUInt32BE(0) });
      } else if (header.type === FrameType.GOAWAY) {
        this.goaway = { code: payload.readUInt32BE(4) };
      }
    }
  }

  private settle(outcome: StreamOutcome): void {
    if (this.outcomes.has(outcome.streamId)) return;
    this.outcomes.set(outcome.streamId, outcome);
    this.waiters.get(outcome.streamId)?.(outcome);
    this.waiters.delete(outcome.streamId);
  }
}

/**
 * The client side's copy of its HPACK dynamic table (RFC 7541 §4), written apart from the
 * daemon's tracker so tests can send references the way a real encoder would.
 */
export class EncoderTable {
  private entries: { name: string; value: string; size: number }[] = [];
  private size = 0;
  constructor(private maxSize = 4096) {}

  /** The HPACK index of (name, value), or undefined when it is not in the table. */
  find(name: string, value: string): number | undefined {
    const i = this.entries.findIndex((e) => e.name === name && e.value === value);
    return i < 0 ? undefined : 62 + i;
  }

  add(name: string, value: string): void {
    const size = Buffer.byteLength(name, "latin1") + Buffer.byteLength(value, "latin1") + 32;
    this.evictTo(this.maxSize - size);
    if (size <= this.maxSize) {
      this.entries.unshift({ name, value, size });
      this.size += size;
    }
  }

  resize(maxSize: number): void {
    this.maxSize = maxSize;
    this.evictTo(maxSize);
  }

  private evictTo(limit: number): void {
    while (this.size > limit && this.entries.length > 0) this.size -= this.entries.pop()!.size;
  }
}
