import { write } from "node:fs";
import type { BufferHolds } from "./chunk-pool.js";

interface QueuedWrite {
  readonly fd: number;
  readonly data: Buffer;
  readonly position: number;
  readonly done: (err: unknown) => void;
}

/**
 * Positional writes handed to libuv's thread pool, so the kernel's copy into the page cache
 * (the largest single cost of applying a layer) runs beside the main thread's parsing and
 * hashing instead of after it. Callers bound the bytes in flight with `below`; the first
 * failure is kept and reported by `check`, `below` and `settled`.
 *
 * At most `threads` writes run at once, the rest wait here: the pool is shared (4 threads by
 * default) and queued behind a pile of writes, the decompressor's next chunk would starve the
 * main thread.
 *
 * The buffers written must stay untouched until their write completes: the applier writes
 * views of the decompressed chunks, held in `holds` (when they come from a pool) until then.
 */
export class BackgroundWrites {
  #bytes = 0;
  #count = 0;
  #failure: unknown;
  #waiters: (() => void)[] = [];
  readonly #queue: QueuedWrite[] = [];
  #running = 0;

  constructor(
    private readonly holds?: BufferHolds,
    private readonly threads = 2,
  ) {}

  /** Bytes handed to the thread pool and not written yet. */
  get bytesInFlight(): number {
    return this.#bytes;
  }

  /** True while any write is in flight. */
  get busy(): boolean {
    return this.#count > 0;
  }

  /**
   * Writes all of `data` at `position` of `fd`, then calls `done` with the error if there was
   * one. A short write (a full disk reports ENOSPC only on the next one) is continued.
   */
  write(fd: number, data: Buffer, position: number, done: (err: unknown) => void): void {
    this.#bytes += data.length;
    this.#count++;
    this.holds?.retain(data);
    this.#queue.push({ fd, data, position, done });
    this.#next();
  }

  #next(): void {
    if (this.#running >= this.threads) return;
    const job = this.#queue.shift();
    if (job === undefined) return;
    this.#running++;
    const { fd, data, position, done } = job;
    const settle = (err: unknown) => {
      this.#running--;
      this.#bytes -= data.length;
      this.#count--;
      this.holds?.release(data);
      try {
        done(err);
      } catch (thrown) {
        this.#failure ??= thrown;
      }
      if (err !== undefined) this.#failure ??= err;
      this.#next();
      this.#wake();
    };
    const from = (at: number) =>
      write(fd, data, at, data.length - at, position + at, (err, n) => {
        if (err) settle(err);
        else if (at + n < data.length) from(at + n);
        else settle(undefined);
      });
    from(0);
  }

  /** Records a failure found while finishing a write's file (it surfaces like a write error). */
  fail(err: unknown): void {
    this.#failure ??= err;
    this.#wake();
  }

  /** Throws the first failure, if any. */
  check(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Resolves once at most `limit` bytes are in flight (and `limit` 0: once nothing is); rejects on a failure. */
  async below(limit: number): Promise<void> {
    while (this.#failure === undefined && (limit === 0 ? this.#count > 0 : this.#bytes > limit)) {
      await new Promise<void>((wake) => this.#waiters.push(wake));
    }
    this.check();
  }

  /** Resolves once every write has completed, failed or not: nothing touches the files after it. */
  async settled(): Promise<void> {
    while (this.#count > 0) await new Promise<void>((wake) => this.#waiters.push(wake));
  }

  #wake(): void {
    const waiting = this.#waiters;
    this.#waiters = [];
    for (const wake of waiting) wake();
  }
}
