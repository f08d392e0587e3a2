import { internal, unavailable } from "@berth/core";
import { open, type Key as LmdbKey, type RootDatabase } from "lmdb";
import { hasPrefix, type Key } from "./keys.js";

export interface Entry<T> {
  readonly key: Key;
  readonly value: T;
}

/** Reads; outside a transaction each call sees the latest committed state. */
export interface ReadTx {
  get<T>(key: Key): T | undefined;
  has(key: Key): boolean;
  /** Every entry whose key extends `prefix`, in key order, read from one snapshot. */
  list<T>(prefix: Key): Entry<T>[];
  /** True when at least one key extends `prefix` (cheaper than list). */
  any(prefix: Key): boolean;
}

/** What a mutation may do; only valid inside `MetaDb.update`. */
export interface WriteTx extends ReadTx {
  put(key: Key, value: unknown): void;
  remove(key: Key): void;
  /** Removes every key extending `prefix`. */
  removeAll(prefix: Key): void;
}

const asKey = (key: Key) => key as unknown as LmdbKey;

/** lmdb-js's key limit; a lookup past it throws instead of missing. */
const MAX_KEY_BYTES = 1978;

/**
 * Whether `key` is too long to have been stored. Writes validate their names first (validate.ts),
 * so a longer key cannot exist: lookups answer "absent" (NotFound upstream) instead of an lmdb
 * error. Counts each part's UTF-8 bytes plus a generous two bytes of framing per part.
 */
function unstorable(key: Key): boolean {
  let bytes = 0;
  for (const part of key) bytes += (typeof part === "string" ? Buffer.byteLength(part, "utf8") : 9) + 2;
  return bytes > MAX_KEY_BYTES;
}

/**
 * One lmdb environment holding every metadata record (values in lmdb's default msgpack, which
 * keeps Dates and byte arrays). Every mutation goes through `update`, a synchronous write
 * transaction: all or nothing, and nothing else in this process runs in between.
 */
export class MetaDb implements ReadTx {
  readonly #env: RootDatabase;
  #closing: Promise<void> | undefined;

  private constructor(env: RootDatabase) {
    this.#env = env;
  }

  /** Opens (creating if needed) the environment file at `path` (plus `<path>-lock`). */
  static open(path: string): MetaDb {
    return new MetaDb(open({ path }));
  }

  get<T>(key: Key): T | undefined {
    this.#checkOpen();
    if (unstorable(key)) return undefined;
    return this.#env.get(asKey(key)) as T | undefined;
  }

  has(key: Key): boolean {
    return this.get(key) !== undefined;
  }

  list<T>(prefix: Key): Entry<T>[] {
    this.#checkOpen();
    const out: Entry<T>[] = [];
    if (unstorable(prefix)) return out;
    // A range has no natural end for "keys extending prefix"; start there and stop at the first
    // key that does not extend it (keys extending a prefix are contiguous in this encoding).
    for (const { key, value } of this.#env.getRange({ start: asKey(prefix) })) {
      const k = key as unknown as Key;
      if (!hasPrefix(k, prefix)) break;
      out.push({ key: k, value: value as T });
    }
    return out;
  }

  any(prefix: Key): boolean {
    this.#checkOpen();
    if (unstorable(prefix)) return false;
    for (const { key } of this.#env.getRange({ start: asKey(prefix), limit: 1 })) {
      return hasPrefix(key as unknown as Key, prefix);
    }
    return false;
  }

  /**
   * Runs `fn` in one synchronous write transaction and commits it; a throw aborts it and
   * nothing `fn` wrote remains. Deliberately transactionSync, not lmdb's async `transaction`:
   * an async transaction batches callbacks together and does not undo the writes of a callback
   * that throws. `fn` must not be async: lmdb would keep the write transaction open on the main
   * thread until the promise settles.
   */
  update<R>(fn: (tx: WriteTx) => R): R {
    this.#checkOpen();
    const env = this.#env;
    const tx: WriteTx = {
      get: (key) => this.get(key),
      has: (key) => this.has(key),
      list: (prefix) => this.list(prefix),
      any: (prefix) => this.any(prefix),
      put: (key, value) => {
        env.put(asKey(key), value);
      },
      remove: (key) => {
        env.remove(asKey(key));
      },
      removeAll: (prefix) => {
        for (const { key } of this.list(prefix)) env.remove(asKey(key));
      },
    };
    let result: R | undefined;
    env.transactionSync(() => {
      result = fn(tx);
      if (typeof (result as { then?: unknown } | undefined)?.then === "function") {
        throw internal("metadata transactions must be synchronous");
      }
      // Return nothing: a thenable returned here would make lmdb defer the commit.
    });
    return result as R;
  }

  /** After close, lmdb would fail with its own errors; callers get a clean Unavailable instead. */
  #checkOpen(): void {
    if (this.#closing) throw unavailable("metadata database is closed");
  }

  /** Closes the environment once; later calls return the same promise. */
  close(): Promise<void> {
    this.#closing ??= this.#env.close();
    return this.#closing;
  }
}
