/** Keeps a buffer from being reused while views of it are still in use. */
export interface BufferHolds {
  retain(view: Uint8Array): void;
  release(view: Uint8Array): void;
}

/**
 * A few equally sized buffers handed out and taken back, so a layer's decompressed data flows
 * through the same memory instead of a new allocation per chunk. A buffer is busy while anyone
 * holds a view of it: the reader of a chunk, and every background write of a piece of it;
 * `retain` and `release` take views (their `.buffer` names the pooled buffer) and ignore
 * arrays that are not from this pool. Buffers are allocated as they are first needed.
 */
export class ChunkPool implements BufferHolds {
  readonly #free: Buffer[] = [];
  readonly #holds = new Map<ArrayBufferLike, { buffer: Buffer; count: number }>();
  #waiters: (() => void)[] = [];

  constructor(
    readonly chunkSize: number,
    readonly maxBuffers: number,
  ) {}

  /** Buffers allocated so far. */
  get allocated(): number {
    return this.#holds.size;
  }

  /** A free buffer, held once by the caller; waits while all `maxBuffers` are busy. */
  async take(signal?: AbortSignal): Promise<Buffer> {
    for (;;) {
      signal?.throwIfAborted();
      const buffer = this.#free.pop() ?? this.#allocate();
      if (buffer !== undefined) {
        this.#holds.get(buffer.buffer)!.count = 1;
        return buffer;
      }
      await new Promise<void>((wake) => {
        const onAbort = () => wake();
        signal?.addEventListener("abort", onAbort, { once: true });
        this.#waiters.push(() => {
          signal?.removeEventListener("abort", onAbort);
          wake();
        });
      });
    }
  }

  /** One more holder of the buffer `view` points into. */
  retain(view: Uint8Array): void {
    const hold = this.#holds.get(view.buffer);
    if (hold !== undefined) hold.count++;
  }

  /** One holder fewer; the last one makes the buffer free again. */
  release(view: Uint8Array): void {
    const hold = this.#holds.get(view.buffer);
    if (hold === undefined || hold.count === 0) return;
    if (--hold.count > 0) return;
    this.#free.push(hold.buffer);
    const waiting = this.#waiters;
    this.#waiters = [];
    for (const wake of waiting) wake();
  }

  #allocate(): Buffer | undefined {
    if (this.#holds.size >= this.maxBuffers) return undefined;
    // Its own ArrayBuffer (never a slice of Node's shared pool): the key of its holds.
    const buffer = Buffer.alloc(this.chunkSize);
    this.#holds.set(buffer.buffer, { buffer, count: 0 });
    return buffer;
  }
}
