import {
  isFailedPrecondition,
  isNotFound,
  isNotImplemented,
  type ContentStore,
  type Logger,
  type OpContext,
  type SnapshotInfo,
  type Snapshotter,
} from "@berth/core";
import type { ContentGate } from "./content-gate.js";
import type { MetaDb } from "./db.js";
import type { InFlightCommits } from "./gc.js";
import { blobKey, ingestsPrefix, namespacesPrefix } from "./keys.js";
import type { IngestRecord } from "./records.js";
import { childrenFirst, referencedBackendKeys } from "./snapshot-cleanup.js";

/**
 * The backend half of a collection: whatever a backend holds that no record of any namespace
 * names goes. Driven only by "what the backend has minus what metadata names", and every
 * removal is idempotent (NotFound counts as done), so a crash or failure halfway leaves work
 * the next collection finishes.
 */

export interface BackendSweep {
  readonly removed: number;
  /** Removals that failed for another reason than "already gone"; the backend stays dirty. */
  readonly failed: number;
}

export interface BlobSweep {
  readonly removed: number;
  /** Digests to look at again next time: their removal failed, or a writer was claiming them. */
  readonly retry: readonly string[];
}

export interface ContentSweepTarget {
  readonly db: MetaDb;
  /** The backend itself, not the gated view the namespaced store uses. */
  readonly backend: ContentStore;
  readonly gate: ContentGate;
  readonly inFlight: InFlightCommits;
  readonly log: Logger;
}

/** Blobs decided and deleted together: one synchronous decision, then their unlinks in parallel. */
const BLOB_BATCH = 64;

/** Digests of `batch` some namespace owns or some shared ingest is about to claim, read now. */
function referencedNow(db: MetaDb, batch: readonly string[]): Set<string> {
  const wanted = new Set(batch);
  const referenced = new Set<string>();
  for (const { key } of db.list(namespacesPrefix)) {
    const ns = String(key[1]);
    for (const digest of batch) if (db.has(blobKey(ns, digest))) referenced.add(digest);
    for (const { value } of db.list<IngestRecord>(ingestsPrefix(ns))) {
      if (value.shared && wanted.has(value.shared.digest)) referenced.add(value.shared.digest);
    }
  }
  return referenced;
}

/**
 * Removes the backend blobs among `candidates` that no namespace owns: the digests whose
 * owners a deletion or the sweep removed, or "all" to walk the whole store (after a start or
 * an unfinished sweep). A candidate that is already gone counts as nothing.
 */
export async function sweepBlobs(target: ContentSweepTarget, candidates: ReadonlySet<string> | "all", ctx: OpContext): Promise<BlobSweep> {
  let removed = 0;
  const retry: string[] = [];
  let batch: string[] = [];
  const flush = async () => {
    const result = await removeBatch(target, batch, ctx);
    removed += result.removed;
    retry.push(...result.retry);
    batch = [];
  };
  const digests = candidates === "all" ? walkDigests(target.backend, ctx) : candidates;
  for await (const digest of digests) {
    batch.push(digest);
    if (batch.length === BLOB_BATCH) await flush();
  }
  await flush();
  return { removed, retry };
}

async function* walkDigests(backend: ContentStore, ctx: OpContext): AsyncIterable<string> {
  for await (const info of backend.walk(ctx, [])) yield info.digest;
}

async function removeBatch(target: ContentSweepTarget, batch: readonly string[], ctx: OpContext): Promise<BlobSweep> {
  const { db, backend, gate, inFlight, log } = target;
  // Decided in one synchronous step with the gate marked, so no claim slips in between (content-gate.ts).
  const referenced = referencedNow(db, batch);
  const unowned = batch.filter((d) => !referenced.has(d));
  // A writer is claiming these: if it gives up, nobody else will say they are unowned.
  const retry = unowned.filter((d) => inFlight.has(d) || gate.claimed(d));
  const chosen = unowned.filter((d) => !inFlight.has(d) && !gate.claimed(d));
  const ends = chosen.map((d) => gate.beginDelete(d));
  const results = await Promise.allSettled(chosen.map((d) => backend.delete(ctx, d)));
  for (const end of ends) end();
  let removed = 0;
  results.forEach((result, j) => {
    if (result.status === "fulfilled") removed++;
    else if (!isNotFound(result.reason)) {
      retry.push(chosen[j]!);
      log.warn("unreferenced blob kept", { digest: chosen[j], error: (result.reason as Error).message });
    }
  });
  return { removed, retry };
}

/** Aborts backend ingests no namespace's ingest record points at (expired, aborted or left by a crash). */
export async function sweepIngests(target: ContentSweepTarget, ctx: OpContext): Promise<BackendSweep> {
  const { db, backend, log } = target;
  const listed = (await backend.listStatuses(ctx, [])).map((s) => s.ref);
  // Listed before the records are read: an ingest's record is written before its backend
  // ingest opens and removed only after its commit, so a listed ref without a record is dead.
  const live = new Set<string>();
  for (const { key } of db.list(namespacesPrefix)) {
    for (const { value } of db.list<IngestRecord>(ingestsPrefix(String(key[1])))) live.add(value.backendRef);
  }
  let removed = 0;
  let failed = 0;
  for (const ref of listed.filter((r) => !live.has(r))) {
    try {
      await backend.abort(ctx, ref);
      removed++;
    } catch (err) {
      if (isNotFound(err)) continue;
      failed++;
      log.warn("unreferenced ingest kept", { ref, error: (err as Error).message });
    }
  }
  return { removed, failed };
}

export interface SnapshotSweepTarget {
  readonly db: MetaDb;
  readonly name: string;
  readonly backend: Snapshotter;
  /** Backend keys being created, not yet recorded (snapshots.ts). */
  readonly creating: ReadonlySet<string>;
  readonly log: Logger;
}

/**
 * Removes backend snapshots no namespace's record names, children first, then lets the
 * snapshotter clean up after itself (containerd's Cleaner). Backend keys are never reused, so
 * a key no record names now can never be named again: only keys still being created are spared.
 */
export async function sweepSnapshots(target: SnapshotSweepTarget, ctx: OpContext): Promise<BackendSweep> {
  const { db, name, backend, creating, log } = target;
  const all: SnapshotInfo[] = [];
  for await (const info of backend.walk(ctx, [])) all.push(info);
  const referenced = referencedBackendKeys(db, name);
  for (const key of creating) referenced.add(key);

  let removed = 0;
  let failed = 0;
  for (const info of childrenFirst(all, all.filter((i) => !referenced.has(i.name)))) {
    try {
      await backend.remove(ctx, info.name);
      removed++;
    } catch (err) {
      if (isNotFound(err)) continue;
      failed++;
      // A parent whose child could not go is refused too (FailedPrecondition): next time.
      const level = isFailedPrecondition(err) ? "info" : "warn";
      log[level]("unreferenced snapshot kept", { snapshotter: name, key: info.name, error: (err as Error).message });
    }
  }
  try {
    await backend.cleanup(ctx);
  } catch (err) {
    if (!isNotImplemented(err)) {
      failed++;
      log.warn("snapshotter cleanup failed", { snapshotter: name, error: (err as Error).message });
    }
  }
  return { removed, failed };
}
