import {
  canceled,
  unavailable,
  type CollectOptions,
  type CollectionStats,
  type ContentStore,
  type Logger,
  type MetadataCollector,
  type OpContext,
  type RemovedBackendData,
  type RemovedObjects,
  type Snapshotter,
} from "@berth/core";
import type { ContentGate } from "./content-gate.js";
import type { MetaDb } from "./db.js";
import type { InFlightCommits } from "./gc.js";
import { sweepBlobs, sweepIngests, sweepSnapshots, type BackendSweep } from "./gc-backends.js";
import { Marker, Pacer } from "./gc-mark.js";
import { RecordSweeper, sweepOrder } from "./gc-sweep.js";
import type { DirtyBackends } from "./mutation-log.js";

export interface CollectorParts {
  readonly db: MetaDb;
  readonly content: { readonly backend: ContentStore; readonly gate: ContentGate; readonly inFlight: InFlightCommits };
  /** Each loaded snapshotter's backend and the keys being created on it. */
  readonly snapshotters: ReadonlyMap<string, { readonly backend: Snapshotter; readonly creating: ReadonlySet<string> }>;
  readonly log: Logger;
  /** What "now" is for expiries, in ms since the epoch. */
  readonly clock: () => number;
}

export interface LmdbCollectionStats extends CollectionStats {
  readonly removedObjects: RemovedObjects;
}

export interface LmdbCollector extends MetadataCollector {
  collect(opts?: CollectOptions): Promise<LmdbCollectionStats>;
  /** Waits for a running collection and refuses new ones (before the environment closes). */
  close(): Promise<void>;
}

const NO_BACKEND_SWEEP: BackendSweep = { removed: 0, failed: 0 };

/**
 * One sweep transaction's share: a few milliseconds, what one marking slice takes, so writers
 * wait no longer on a sweep than on marking. Every commit syncs, so batches are not made tiny.
 */
const SWEEP_BUDGET = { removals: 1024, ms: 3 };

/** Backends ignore namespaces, and a backend sweep once started is not cancelled: its context carries neither. */
const BACKEND_CTX: OpContext = { namespace: "" };

/**
 * The metadata store's collector, as containerd's metadata GarbageCollect, shaped for one
 * event loop. Collections run one at a time:
 *
 * 1. In one synchronous step it starts recording written keys and takes a read snapshot.
 * 2. Mark: roots and references are read from the snapshot in slices of a few milliseconds,
 *    so reads and writes go on meanwhile (containerd blocks writers here instead).
 * 3. Sweep, in write transactions of a few milliseconds each (gc-sweep.ts), writers running
 *    in between: each first marks, over the current state, what was written since the last
 *    (the write barrier), then removes a batch of white images, leases, blob ownerships,
 *    ingests and snapshots, referrers before what they reference. The longest of these
 *    transactions, or of the marking slices, is the collection's pause. A crash between two
 *    leaves only unreachable records, for the next collection.
 * 4. Backends: blobs, ingests and snapshots no record names are removed, and each
 *    snapshotter cleans up. Only what deletions touched since the last collection is looked
 *    at (the digests whose owners went, the snapshotters that lost snapshots); everything
 *    after a start, when a crash may have left anything.
 */
export function createLmdbCollector(parts: CollectorParts): LmdbCollector {
  const { db, log } = parts;
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  async function markAndSweep(signal: AbortSignal | undefined) {
    const started = performance.now();
    const pacer = new Pacer(signal);
    const marker = new Marker(parts.clock());
    const written = db.mutations.recordWrites();
    const snapshot = db.snapshot();
    const deletions = db.mutations.takeDeletions();
    let sweeper: RecordSweeper | undefined;
    let longestSweepMs = 0;
    try {
      try {
        await marker.markSnapshot(snapshot, pacer);
      } finally {
        snapshot.done();
      }
      pacer.finish();
      sweeper = new RecordSweeper(sweepOrder(marker.candidates, marker.parents), marker.black);
      let remarked = 0;
      for (let done = false; !done; ) {
        // Writers run between batches. A cancelled caller stops waiting (scheduler); the sweep, once begun, finishes.
        await db.writersServed();
        const batchStart = performance.now();
        const current = sweeper;
        done = db.update(
          (tx) => {
            marker.remark(tx, written.keys.slice(remarked));
            remarked = written.keys.length;
            return current.sweepSome(tx, SWEEP_BUDGET);
          },
          { silent: true },
        );
        longestSweepMs = Math.max(longestSweepMs, performance.now() - batchStart);
      }
      return { swept: sweeper.result(), metadataMs: performance.now() - started, pauseMs: Math.max(longestSweepMs, pacer.longestMs) };
    } catch (err) {
      db.mutations.restoreDeletions(deletions);
      // Batches that committed left backend data behind: still to sweep.
      if (sweeper) db.mutations.restore(sweeper.result().dirty);
      throw err;
    } finally {
      written.close();
    }
  }

  async function sweepBackends(dirty: DirtyBackends): Promise<{ removed: RemovedBackendData; leftover: DirtyBackends }> {
    const content = { ...parts.content, db, log };
    const names = dirty.snapshotters === "all" ? [...parts.snapshotters.keys()] : [...dirty.snapshotters];
    const [blobs, ingests, snapshots] = await Promise.all([
      sweepBlobs(content, dirty.blobs, BACKEND_CTX),
      dirty.ingests ? sweepIngests(content, BACKEND_CTX) : NO_BACKEND_SWEEP,
      Promise.all(
        names.map(async (name) => {
          const s = parts.snapshotters.get(name);
          // A snapshotter not loaded this time keeps its data for a run that has it.
          if (!s) return { name, sweep: NO_BACKEND_SWEEP };
          return { name, sweep: await sweepSnapshots({ db, name, backend: s.backend, creating: s.creating, log }, BACKEND_CTX) };
        }),
      ),
    ]);
    return {
      removed: {
        blobs: blobs.removed,
        ingests: ingests.removed,
        snapshots: snapshots.reduce((n, s) => n + s.sweep.removed, 0),
      },
      leftover: {
        blobs: new Set(blobs.retry),
        ingests: ingests.failed > 0,
        snapshotters: new Set(snapshots.filter((s) => s.sweep.failed > 0).map((s) => s.name)),
      },
    };
  }

  async function collectOnce(opts: CollectOptions): Promise<LmdbCollectionStats> {
    if (closed) throw unavailable("metadata store is closed");
    if (opts.signal?.aborted) throw canceled("garbage collection canceled", opts.signal.reason);
    const started = performance.now();
    const { swept, metadataMs, pauseMs } = await markAndSweep(opts.signal);
    db.mutations.restore(swept.dirty);
    const dirty = db.mutations.takeBackends();
    let backend: RemovedBackendData;
    try {
      const result = await sweepBackends(dirty);
      backend = result.removed;
      db.mutations.restore(result.leftover);
    } catch (err) {
      // Listing a backend failed: everything it was to sweep is still to do.
      db.mutations.restore(dirty);
      throw err;
    }
    const stats: LmdbCollectionStats = {
      records: swept.counts,
      backend,
      durationMs: performance.now() - started,
      metadataMs,
      pauseMs,
      removedObjects: { images: swept.images, snapshots: swept.snapshots },
    };
    const removed = Object.values(stats.records).reduce((a, b) => a + b, 0) + Object.values(backend).reduce((a, b) => a + b, 0);
    if (removed > 0) log.info("garbage collected", { records: stats.records, backend, ms: Math.round(stats.durationMs) });
    return stats;
  }

  return {
    collect(opts = {}) {
      const run = queue.then(() => collectOnce(opts));
      queue = run.catch(() => undefined);
      return run;
    },
    onMutation: (listener) => db.mutations.onMutation(listener),
    async close() {
      closed = true;
      await queue;
    },
  };
}
