import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { failedPrecondition, type CommitPath } from "@berth/core";
import { SCHEMA_KEY } from "./keys.js";
import { LmdbEnv } from "./lmdb-env.js";
import { snapshotReader, snapshotWriter, type SnapshotReader, type SnapshotWriter } from "./transactions.js";

/** The layout version this build writes (keys.ts). */
export const STORAGE_SCHEMA_VERSION = 1;

/**
 * The metadata half of a snapshotter: which snapshots exist, their kinds, parents, labels and
 * ids. A backend keeps its files per id and pairs each filesystem step with one transaction.
 * Transaction callbacks are synchronous: a backend does its slow filesystem work (creating a
 * directory, a btrfs snapshot) before or after, never inside, except for quick synchronous
 * steps such as a rename that must succeed or fail together with the metadata. A write settles
 * once its commit is on disk; readers see it from its commit on, which is before `write`
 * returns where commits run inline and later where they go through lmdb's write thread.
 */
export interface SnapshotStorage {
  /** Runs `fn` against one consistent state of the store. */
  read<R>(fn: (tx: SnapshotReader) => R): R;
  /**
   * Runs `fn` (synchronous) in one write transaction: everything it wrote, or nothing if it
   * throws. Settles once the commit is on disk.
   */
  write<R>(fn: (tx: SnapshotWriter) => R): Promise<R>;
  /** Closes the environment once; later calls return the same promise. */
  close(): Promise<void>;
}

/**
 * Opens (creating if needed) the store at `path`, a file (`<path>-lock` beside it). `commitPath`
 * chooses where commits run (default: inline while the disk syncs fast).
 */
export async function openSnapshotStorage(path: string, opts: { readonly commitPath?: CommitPath } = {}): Promise<SnapshotStorage> {
  await mkdir(dirname(path), { recursive: true });
  const env = new LmdbEnv(path, opts);
  try {
    env.writeNow((tx) => {
      const version = tx.get<number>(SCHEMA_KEY);
      if (version === undefined) tx.put(SCHEMA_KEY, STORAGE_SCHEMA_VERSION);
      else if (version !== STORAGE_SCHEMA_VERSION) {
        throw failedPrecondition(`snapshot storage ${path} is at layout ${version}; this build reads ${STORAGE_SCHEMA_VERSION}`);
      }
    });
  } catch (err) {
    await env.close();
    throw err;
  }
  return {
    read: (fn) => env.read((tx) => fn(snapshotReader(tx))),
    write: (fn) => env.commit((tx) => fn(snapshotWriter(tx))),
    close: () => env.close(),
  };
}
