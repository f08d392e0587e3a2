/**
 * Downloaded chunks gathered for one write at a time in two reused buffers: one fills while
 * the other is being written. A pull of hundreds of MB otherwise allocated a fresh buffer per
 * batch, and that external memory drove the daemon's garbage collections (~200 ms of its main
 * thread in a profile of one `multi` pull).
 */
export class WriteBatches {
  readonly #buffers: readonly [Buffer, Buffer];
  #current = 0;
  #filled = 0;

  constructor(readonly capacity: number) {
    this.#buffers = [Buffer.allocUnsafe(capacity), Buffer.allocUnsafe(capacity)];
  }

  /** Bytes gathered in the batch being filled. */
  get size(): number {
    return this.#filled;
  }

  /** Copies `chunk` into the batch; false (and nothing copied) when it does not fit. */
  add(chunk: Uint8Array): boolean {
    if (this.#filled + chunk.byteLength > this.capacity) return false;
    this.#buffers[this.#current]!.set(chunk, this.#filled);
    this.#filled += chunk.byteLength;
    return true;
  }

  /**
   * The batch, to be written; the next one fills the other buffer. The bytes returned stay
   * valid until `take` is called the second time after this one, so a caller must have
   * finished writing them by then.
   */
  take(): Buffer {
    const batch = this.#buffers[this.#current]!.subarray(0, this.#filled);
    this.#current ^= 1;
    this.#filled = 0;
    return batch;
  }

  /** Drops what the batch being filled holds. */
  clear(): void {
    this.#filled = 0;
  }
}
