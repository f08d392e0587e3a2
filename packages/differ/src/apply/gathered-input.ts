/**
 * A byte source read ahead into a queue, handed out as large pieces: every chunk that arrived
 * while the consumer was busy comes back at once, copied into one reused buffer of up to
 * `batch` bytes. An inflate step costs ~30 µs of the main thread and a thread-pool hand-off
 * whatever its size; a download arrives in 64 KiB socket reads, so stepping per chunk spent
 * ~70 ms of CPU more on an 88 MB layer than 1 MiB steps did. The consumer only gets big pieces
 * when it is behind, so nothing waits for a batch to fill. At most `readAhead` bytes are queued
 * before the source is no longer read. Once `signal` aborts, the reading stops at the next
 * chunk (or at once, when it waits for room).
 */
export class GatheredInput {
  readonly #queue: Uint8Array[] = [];
  #queued = 0;
  readonly #buffer: Buffer;
  readonly #readAhead: number;
  #ended = false;
  #failure: { error: unknown } | undefined;
  #wakeConsumer: (() => void) | undefined;
  #wakeReader: (() => void) | undefined;

  constructor(source: AsyncIterable<Uint8Array>, batch: number, readAhead: number, signal: AbortSignal) {
    this.#buffer = Buffer.allocUnsafe(batch);
    this.#readAhead = readAhead;
    // A reader waiting for room ends once the consumer gives up.
    signal.addEventListener("abort", () => this.#wake("reader"), { once: true });
    void this.#read(source, signal);
  }

  /**
   * The next piece, or undefined at the end; the source's error is thrown here. A gathered piece
   * is a view of the reused buffer: valid until the next call.
   */
  async next(): Promise<Uint8Array | undefined> {
    while (this.#queue.length === 0) {
      if (this.#failure !== undefined) throw this.#failure.error;
      if (this.#ended) return undefined;
      await new Promise<void>((resolve) => (this.#wakeConsumer = resolve));
    }
    const piece = this.#queue.length === 1 || this.#queue[0]!.byteLength >= this.#buffer.length ? this.#queue.shift()! : this.#gather();
    this.#queued -= piece.byteLength;
    this.#wake("reader");
    return piece;
  }

  /** Copies queued chunks into the buffer until it is full; a chunk that does not fit is split. */
  #gather(): Uint8Array {
    let filled = 0;
    while (filled < this.#buffer.length && this.#queue.length > 0) {
      const chunk = this.#queue[0]!;
      const take = Math.min(chunk.byteLength, this.#buffer.length - filled);
      this.#buffer.set(take === chunk.byteLength ? chunk : chunk.subarray(0, take), filled);
      filled += take;
      if (take === chunk.byteLength) this.#queue.shift();
      else this.#queue[0] = chunk.subarray(take);
    }
    return this.#buffer.subarray(0, filled);
  }

  async #read(source: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<void> {
    try {
      for await (const chunk of source) {
        signal.throwIfAborted();
        if (chunk.byteLength === 0) continue;
        this.#queue.push(chunk);
        this.#queued += chunk.byteLength;
        this.#wake("consumer");
        while (this.#queued >= this.#readAhead) {
          signal.throwIfAborted();
          await new Promise<void>((resolve) => (this.#wakeReader = resolve));
        }
      }
      this.#ended = true;
    } catch (err) {
      this.#failure = { error: err };
    } finally {
      this.#wake("consumer");
    }
  }

  #wake(who: "consumer" | "reader"): void {
    const wake = who === "consumer" ? this.#wakeConsumer : this.#wakeReader;
    if (who === "consumer") this.#wakeConsumer = undefined;
    else this.#wakeReader = undefined;
    wake?.();
  }
}
