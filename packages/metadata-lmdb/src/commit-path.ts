/**
 * Chooses where a request's metadata commit runs. On the main thread a commit and its fsync cost
 * about 0.3 ms on a local disk, against 0.6–1.7 ms of latency through lmdb's write thread (a
 * threadpool round trip that queues behind file I/O), and a container's create and delete make
 * half a dozen of them. But where an fsync takes milliseconds, committing inline would stall
 * every other request: so commits run inline while their measured cost stays within a budget,
 * go to the write thread when it does not, and one in every `resampleEvery` of those runs inline
 * again to notice a disk that has recovered.
 */
export class CommitPath {
  /** Moving average of inline commit times, weighting the latest by a quarter. */
  #inlineMs = 0;
  #offloaded = 0;

  readonly #budgetMs: number;
  readonly #resampleEvery: number;

  constructor(budgetMs = 1, resampleEvery = 32) {
    this.#budgetMs = budgetMs;
    this.#resampleEvery = resampleEvery;
  }

  /** Whether the next commit should run inline (then report its time to `measured`). */
  inline(): boolean {
    if (this.#inlineMs <= this.#budgetMs) return true;
    this.#offloaded += 1;
    return this.#offloaded % this.#resampleEvery === 0;
  }

  measured(ms: number): void {
    this.#inlineMs = this.#inlineMs * 0.75 + ms * 0.25;
  }
}
