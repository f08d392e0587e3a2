/**
 * Serialises operations per key: a stop racing a remove (or the kubelet retrying a stop) on
 * one pod runs one after the other, while different pods proceed in parallel.
 */
export interface KeyedLock {
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

export function createKeyedLock(): KeyedLock {
  const tails = new Map<string, Promise<unknown>>();
  return {
    async run(key, fn) {
      const before = tails.get(key) ?? Promise.resolve();
      const mine = before.catch(() => undefined).then(fn);
      const tail = mine.catch(() => undefined);
      tails.set(key, tail);
      try {
        return await mine;
      } finally {
        if (tails.get(key) === tail) tails.delete(key);
      }
    },
  };
}
