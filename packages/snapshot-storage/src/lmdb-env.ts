import { CommitPath, internal, unavailable } from "@berth/core";
import { setCloseOnExecForPaths } from "@berth/native";
import { resolve } from "node:path";
import { open, type Key as LmdbKey, type RootDatabase } from "lmdb";
import { hasPrefix, type Key } from "./keys.js";

/** Raw access to the environment; in a write transaction, also its writes. */
export interface RawTx {
  get<T>(key: Key): T | undefined;
  /** Values of every key extending `prefix`, in key order. */
  list<T>(prefix: Key): { key: Key; value: T }[];
  any(prefix: Key): boolean;
  put(key: Key, value: unknown): void;
  remove(key: Key): void;
}

const asKey = (key: Key) => key as unknown as LmdbKey;

/**
 * One lmdb environment. Reads run synchronously, so one `read` callback sees one state of the
 * store. Writes run in a synchronous callback too, all or nothing, with nothing else in this
 * process running in between; `commit` runs the commit and its fsync inline while the disk
 * syncs fast, on lmdb's write thread while it does not (CommitPath).
 */
export class LmdbEnv {
  readonly #env: RootDatabase;
  readonly #commitPath: CommitPath;
  #closing: Promise<void> | undefined;

  constructor(path: string, opts: { readonly commitPath?: CommitPath } = {}) {
    this.#env = open({ path });
    this.#commitPath = opts.commitPath ?? new CommitPath();
    // lmdb opens its files without close-on-exec; every shim berthd starts would keep them open.
    setCloseOnExecForPaths([resolve(path), `${resolve(path)}-lock`]);
  }

  read<R>(fn: (tx: RawTx) => R): R {
    this.#checkOpen();
    return synchronous(fn(this.#raw(false)));
  }

  /**
   * Runs `fn` in a write transaction committed before this returns, blocking the main thread
   * through the fsync: for opening the store, and `commit`'s fast path. A throw aborts it,
   * leaving nothing it wrote. `fn` must be synchronous: lmdb would otherwise hold the write
   * transaction across event-loop turns.
   */
  writeNow<R>(fn: (tx: RawTx) => R): R {
    this.#checkOpen();
    let result: R | undefined;
    this.#env.transactionSync(() => {
      result = synchronous(fn(this.#raw(true)));
      // Return nothing: lmdb defers the commit of a callback that returns a thenable.
    });
    return result as R;
  }

  /**
   * Runs `fn` in a write transaction and settles once it is on disk. Where the disk syncs fast
   * (a commit and its fsync ~0.3 ms here, against 0.6–1.7 ms of latency through lmdb's write
   * thread, and a container's prepare and remove make one each) that is `writeNow`. Otherwise
   * `fn` runs on the main thread in a child transaction of lmdb's current write batch (a throw
   * undoes only its own writes), committed and flushed on lmdb's write thread: nothing blocks
   * while the disk is slow, concurrent writes share one fsync, and readers see the writes once
   * the batch commits. `fn` must be synchronous.
   */
  async commit<R>(fn: (tx: RawTx) => R): Promise<R> {
    this.#checkOpen();
    const started = performance.now();
    if (this.#commitPath.inline()) {
      try {
        return this.writeNow(fn);
      } finally {
        this.#commitPath.measured(true, performance.now() - started);
      }
    }
    let result: R | undefined;
    await this.#env.childTransaction(() => {
      result = synchronous(fn(this.#raw(true)));
    });
    await this.#env.flushed;
    this.#commitPath.measured(false, performance.now() - started);
    return result as R;
  }

  close(): Promise<void> {
    this.#closing ??= this.#env.close();
    return this.#closing;
  }

  #raw(writable: boolean): RawTx {
    const env = this.#env;
    const refuse = () => {
      throw internal("snapshot storage: write outside a write transaction");
    };
    return {
      get: (key) => env.get(asKey(key)) as never,
      list: <T>(prefix: Key) => {
        const out: { key: Key; value: T }[] = [];
        for (const { key, value } of env.getRange({ start: asKey(prefix) })) {
          const k = key as unknown as Key;
          if (!hasPrefix(k, prefix)) break;
          out.push({ key: k, value: value as T });
        }
        return out;
      },
      any: (prefix) => {
        for (const { key } of env.getRange({ start: asKey(prefix), limit: 1 })) return hasPrefix(key as unknown as Key, prefix);
        return false;
      },
      put: writable ? (key, value) => void env.put(asKey(key), value) : refuse,
      remove: writable ? (key) => void env.remove(asKey(key)) : refuse,
    };
  }

  #checkOpen(): void {
    if (this.#closing) throw unavailable("snapshot storage is closed");
  }
}

function synchronous<R>(result: R): R {
  if (typeof (result as { then?: unknown } | undefined)?.then === "function") {
    throw internal("snapshot storage transactions must be synchronous");
  }
  return result;
}
