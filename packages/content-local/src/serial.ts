/**
 * Runs async work one at a time per key. Keyed mutexes are module-level so two store objects
 * over the same root (a test, or an embedder that opens the root twice) still exclude each
 * other within the process.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(key) ?? Promise.resolve();
    const result = before.then(fn, fn);
    const tail = result.catch(() => {});
    this.#tails.set(key, tail);
    try {
      return await result;
    } finally {
      // Forget the key once nobody queued behind us, so the map does not grow with every digest.
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}

/** A promise chain that runs each queued operation after the previous one settles. */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn, fn);
    this.#tail = result.catch(() => {});
    return result;
  }
}
