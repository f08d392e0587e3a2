import { CommitPath, internal, unavailable } from "@berth/core";
import { setCloseOnExecForPaths } from "@berth/native";
import { resolve } from "node:path";
import { open, type Key as LmdbKey, type RootDatabase, type Transaction } from "lmdb";
import { hasPrefix, type Key } from "./keys.js";
import { MutationLog, type DirtyBackend } from "./mutation-log.js";
import { breathe } from "./breathe.js";

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
  /**
   * Records that this mutation deleted something, so a collection may now find objects
   * unreferenced (containerd's dirty count); `backend` names a backend that may now hold data
   * no record names. Counted only if the transaction commits.
   */
  markDirty(backend?: DirtyBackend): void;
}

/** The database as it was when the snapshot was taken, however long it is read; `done` releases it. */
export interface ReadSnapshot extends ReadTx {
  /** Entries under `prefix`, lazily: a caller may yield to the event loop between them. */
  entries<T>(prefix: Key): Generator<Entry<T>>;
  done(): void;
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
  /** Deletions, dirty backends and written keys, for garbage collection. */
  readonly mutations = new MutationLog();
  #closing: Promise<void> | undefined;
  /** How long the last `update` held the write lock (see writersServed). */
  #lastUpdateMs = 0;
  readonly #commitPath: CommitPath;

  private constructor(env: RootDatabase, commitPath: CommitPath) {
    this.#env = env;
    this.#commitPath = commitPath;
  }

  /**
   * Opens (creating if needed) the environment file at `path` (plus `<path>-lock`). `commitPath`
   * decides where `commit` runs; tests pass one to pin either path.
   */
  static open(path: string, opts: { readonly commitPath?: CommitPath } = {}): MetaDb {
    const env = open({ path });
    // lmdb opens its files without close-on-exec; every shim berthd starts would keep them open.
    setCloseOnExecForPaths([resolve(path), `${resolve(path)}-lock`]);
    return new MetaDb(env, opts.commitPath ?? new CommitPath());
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
   * thread until the promise settles. `silent`: listeners are not told and marks are dropped
   * (the garbage collector's sweep). The content store's paths use this rather than `commit`:
   * the content gate (content-gate.ts) needs their record written in the same turn as the check
   * that precedes it.
   */
  update<R>(fn: (tx: WriteTx) => R, opts: { readonly silent?: boolean } = {}): R {
    this.#checkOpen();
    const marks: (DirtyBackend | undefined)[] = [];
    const tx = this.#writeTx(marks);
    let result: R | undefined;
    const started = performance.now();
    this.#env.transactionSync(() => {
      result = synchronous(fn(tx));
      // Return nothing: a thenable returned here would make lmdb defer the commit.
    });
    this.#lastUpdateMs = performance.now() - started;
    // The collector's own sweep is no mutation to schedule a collection for.
    if (!opts.silent) this.mutations.committed(marks);
    return result as R;
  }

  /**
   * Commits `fn`'s writes for a request, which answers only once they are on disk (containerd's
   * bolt answers after its commit's fsync). Where the disk syncs fast this is `update`, inline;
   * otherwise (see CommitPath) the commit and its fsync run on lmdb's write thread: `fn` runs
   * later, on the main thread, in a child transaction of lmdb's current write batch (a throw
   * undoes only its own writes, and nothing else runs in between), so concurrent requests share
   * one fsync. `fn` must be synchronous.
   */
  async commit<R>(fn: (tx: WriteTx) => R): Promise<R> {
    this.#checkOpen();
    const started = performance.now();
    if (this.#commitPath.inline()) {
      try {
        return this.update(fn);
      } finally {
        this.#commitPath.measured(true, performance.now() - started);
      }
    }
    const marks: (DirtyBackend | undefined)[] = [];
    const tx = this.#writeTx(marks);
    let result: R | undefined;
    await this.#env.childTransaction(() => {
      result = synchronous(fn(tx));
    });
    // Committed; durable only once flushed, and the caller answers only after that.
    await this.#env.flushed;
    this.#commitPath.measured(false, performance.now() - started);
    this.mutations.committed(marks);
    return result as R;
  }

  /**
   * Resolves after as much time for other work as the last `update` took, once the writes then
   * queued for lmdb's write thread (`commit`) have committed. A run of synchronous transactions
   * (the collector's sweep, a deleted lease's resources) awaits it between two of them:
   * otherwise the next takes the write lock again at once, and a request's write waits out
   * several of them instead of at most one.
   */
  async writersServed(): Promise<void> {
    await breathe(this.#lastUpdateMs);
    await this.#env.committed;
  }

  #writeTx(marks: (DirtyBackend | undefined)[]): WriteTx {
    const env = this.#env;
    const mutations = this.mutations;
    return {
      get: (key) => this.get(key),
      has: (key) => this.has(key),
      list: (prefix) => this.list(prefix),
      any: (prefix) => this.any(prefix),
      put: (key, value) => {
        env.put(asKey(key), value);
        if (mutations.recording) mutations.written(key);
      },
      remove: (key) => {
        env.remove(asKey(key));
      },
      removeAll: (prefix) => {
        for (const { key } of this.list(prefix)) env.remove(asKey(key));
      },
      markDirty: (backend) => {
        marks.push(backend);
      },
    };
  }

  /** A consistent view of the database as of now, for a reader that yields between reads (the collector's mark). */
  snapshot(): ReadSnapshot {
    this.#checkOpen();
    const env = this.#env;
    const transaction: Transaction = env.useReadTransaction();
    const get = <T>(key: Key): T | undefined =>
      unstorable(key) ? undefined : (env.get(asKey(key), { transaction }) as T | undefined);
    function* entries<T>(prefix: Key): Generator<Entry<T>> {
      if (unstorable(prefix)) return;
      for (const { key, value } of env.getRange({ start: asKey(prefix), transaction })) {
        const k = key as unknown as Key;
        if (!hasPrefix(k, prefix)) return;
        yield { key: k, value: value as T };
      }
    }
    return {
      get,
      has: (key) => get(key) !== undefined,
      entries,
      list: <T>(prefix: Key) => [...entries<T>(prefix)],
      any: (prefix) => !entries(prefix).next().done,
      done: () => transaction.done(),
    };
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

function synchronous<R>(result: R): R {
  if (typeof (result as { then?: unknown } | undefined)?.then === "function") {
    throw internal("metadata transactions must be synchronous");
  }
  return result;
}
