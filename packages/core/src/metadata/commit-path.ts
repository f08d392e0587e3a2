/**
 * Chooses where a request's metadata commit runs (metadata-lmdb's store and the snapshotters'
 * own storage use it). On the main thread a commit and its fsync cost
 * about 0.3 ms on a local disk, against 0.6–1.7 ms of latency through lmdb's write thread (a
 * threadpool round trip that queues behind file I/O), and a container's create and delete make
 * half a dozen of them. But where an fsync takes milliseconds (a slow disk, or one busy with a
 * collection's unlinks), committing inline would stall every other request: so commits run
 * inline while their measured time stays within `budgetMs`, and go to the write thread once it
 * does not. They come back once commits there are as quick as a fast disk allows
 * (`recoveryMs`), which is measured without ever blocking the main thread to find out.
 */
export class CommitPath {
  readonly #budgetMs: number;
  readonly #recoveryMs: number;
  #inline = true;
  /** Moving average of the current path's commit times, weighting the latest by a quarter. */
  #averageMs = 0;

  constructor(budgetMs = 1, recoveryMs = 2) {
    this.#budgetMs = budgetMs;
    this.#recoveryMs = recoveryMs;
  }

  /** Whether the next commit should run inline; report its time to `measured` either way. */
  inline(): boolean {
    return this.#inline;
  }

  /** A commit's time on the path `inline()` chose for it. */
  measured(inline: boolean, ms: number): void {
    if (inline !== this.#inline) return; // began before the last switch
    this.#averageMs = this.#averageMs * 0.75 + ms * 0.25;
    if (this.#inline && this.#averageMs > this.#budgetMs) {
      this.#inline = false;
      this.#averageMs = ms; // the write thread has to show it is fast, starting from this
    } else if (!this.#inline && this.#averageMs < this.#recoveryMs) {
      this.#inline = true;
      this.#averageMs = 0;
    }
  }
}
