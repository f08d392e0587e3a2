import { HEADER_LENGTH, MAX_DATA_LENGTH, type Frame, type OversizedFrame } from "./frame.js";

export type DecodedFrame = ({ readonly oversized: false } & Frame) | ({ readonly oversized: true } & OversizedFrame);

/**
 * Cuts a byte stream into frames. A frame lying within one chunk is handed out as a view of
 * that chunk; only a frame spread over several chunks is copied, once, into a buffer of its
 * own. An oversized frame is reported at its header and its data skipped as it arrives, so it
 * never occupies memory.
 */
export class FrameDecoder {
  readonly #chunks: Buffer[] = [];
  #buffered = 0;
  #skip = 0;
  #header: { streamId: number; type: number; flags: number; length: number } | undefined;

  constructor(private readonly maxDataLength = MAX_DATA_LENGTH) {}

  /** Bytes held that do not yet make a whole frame (non-zero at a clean end is a truncated frame). */
  get pending(): number {
    return this.#buffered + (this.#header ? HEADER_LENGTH : 0) + this.#skip;
  }

  *push(chunk: Buffer): Generator<DecodedFrame> {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    for (;;) {
      if (this.#skip > 0) {
        const dropped = Math.min(this.#skip, this.#buffered);
        this.#consume(dropped);
        this.#skip -= dropped;
        if (this.#skip > 0) return;
      }
      if (!this.#header) {
        if (this.#buffered < HEADER_LENGTH) return;
        const h = this.#take(HEADER_LENGTH);
        const header = { length: h.readUInt32BE(0), streamId: h.readUInt32BE(4), type: h[8]!, flags: h[9]! };
        if (header.length > this.maxDataLength) {
          this.#skip = header.length;
          yield { oversized: true, streamId: header.streamId, type: header.type, flags: header.flags, length: header.length };
          continue;
        }
        this.#header = header;
      }
      const header = this.#header;
      if (this.#buffered < header.length) return;
      this.#header = undefined;
      const data = header.length === 0 ? EMPTY : this.#take(header.length);
      yield { oversized: false, streamId: header.streamId, type: header.type, flags: header.flags, data };
    }
  }

  /** The next `n` buffered bytes (n <= buffered): a view when they sit in one chunk. */
  #take(n: number): Buffer {
    const first = this.#chunks[0]!;
    if (first.length >= n) {
      const view = first.subarray(0, n);
      this.#advance(first, n);
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0]!;
      const count = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, count);
      filled += count;
      this.#advance(chunk, count);
    }
    return out;
  }

  #consume(n: number): void {
    while (n > 0) {
      const chunk = this.#chunks[0]!;
      const count = Math.min(chunk.length, n);
      this.#advance(chunk, count);
      n -= count;
    }
  }

  #advance(chunk: Buffer, n: number): void {
    this.#buffered -= n;
    if (n === chunk.length) this.#chunks.shift();
    else this.#chunks[0] = chunk.subarray(n);
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * The frames of a byte stream (a socket), in order. Reading stops while the consumer is busy
 * with a frame, which is what lets a slow stream consumer hold the socket back.
 */
export async function* readFrames(source: AsyncIterable<Buffer>, maxDataLength = MAX_DATA_LENGTH): AsyncGenerator<DecodedFrame> {
  const decoder = new FrameDecoder(maxDataLength);
  for await (const chunk of source) yield* decoder.push(chunk);
  if (decoder.pending > 0) throw new Error(`ttrpc: connection ended inside a frame (${decoder.pending} bytes pending)`);
}
