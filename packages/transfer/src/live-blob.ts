/** Bytes all the feeds of one pull may hold together: many small layers downloaded far ahead of the unpack must not pile up. */
export class LiveBudget {
  #available: number;

  constructor(bytes: number) {
    this.#available = bytes;
  }

  take(bytes: number): boolean {
    if (bytes > this.#available) return false;
    this.#available -= bytes;
    return true;
  }

  give(bytes: number): void {
    this.#available += bytes;
  }
}

/**
 * A blob's bytes as they arrive from the registry, for a reader that wants them before the
 * blob is committed: the unpack of a layer streams behind its download instead of waiting for
 * it. Memory stays bounded: once more than `maxBuffered` bytes wait unread the feed stops
 * taking chunks, and its reader continues from the content store (at the offset it reached)
 * once the blob is committed. So a slow reader never slows the download, and a download the
 * reader catches up with is applied as it arrives. All feeds of a pull also share a `LiveBudget`.
 *
 * The bytes are not verified here: the download's commit checks the blob's digest, and the
 * reader must wait for that (the unpack commits no snapshot before it) — the differ checks
 * the uncompressed digest itself.
 */
export class LiveBlob {
  readonly #size: number;
  readonly #maxBuffered: number;
  readonly #budget: LiveBudget;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  /** Bytes offered in order from offset 0 so far. */
  #offered = 0;
  #detached = false;
  #wake: (() => void) | undefined;

  constructor(size: number, maxBuffered: number, budget: LiveBudget) {
    this.#size = size;
    this.#maxBuffered = maxBuffered;
    this.#budget = budget;
  }

  /** Takes the chunk downloaded at `offset`, unless the feed has given up. */
  offer(chunk: Uint8Array, offset: number): void {
    if (this.#detached) return;
    // Only an unbroken run from 0 is useful (a resumed download starts later), within budget.
    const fits = this.#buffered + chunk.byteLength <= this.#maxBuffered && this.#budget.take(chunk.byteLength);
    if (offset !== this.#offered || !fits) {
      if (fits) this.#budget.give(chunk.byteLength);
      this.detach();
      return;
    }
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
    this.#offered += chunk.byteLength;
    this.#notify();
  }

  /** Stops taking chunks; the reader goes to the content store after those it has. */
  detach(): void {
    this.#detached = true;
    this.#notify();
  }

  /** Drops everything buffered and takes no more: for a blob nobody will read from here. */
  release(): void {
    this.detach();
    this.#chunks = [];
    this.#budget.give(this.#buffered);
    this.#buffered = 0;
  }

  /**
   * The blob's bytes from 0: from the feed while it keeps up, then from `rest(offset)` (the
   * content store) once `stored` resolves. A rejection of `stored` (the download failed) ends
   * the read with that error.
   */
  async *read(stored: Promise<void>, rest: (offset: number) => AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    let settled = false;
    const onSettled = () => {
      settled = true;
      this.#notify();
    };
    stored.then(onSettled, onSettled);
    let offset = 0;
    for (;;) {
      const chunk = this.#chunks.shift();
      if (chunk !== undefined) {
        this.#buffered -= chunk.byteLength;
        this.#budget.give(chunk.byteLength);
        offset += chunk.byteLength;
        yield chunk;
        continue;
      }
      if (offset === this.#size) return;
      if (this.#detached || settled) break;
      await new Promise<void>((wake) => (this.#wake = wake));
    }
    await stored;
    yield* rest(offset);
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
