import { isFailedPrecondition, isNotFound, type Logger, type OpContext, type SnapshotInfo, type Snapshotter } from "@berth/core";
import type { MetaDb } from "./db.js";
import { namespacesPrefix, snapshotterPrefix } from "./keys.js";
import type { SnapshotRecord } from "./records.js";

export interface PruneTarget {
  readonly db: MetaDb;
  readonly snapshotter: string;
  readonly backend: Snapshotter;
  /** Backend keys being created right now, not yet recorded. */
  readonly creating: ReadonlySet<string>;
  readonly log: Logger;
}

/** Every backend key some namespace's record of `snapshotter` names, pending commits included. */
export function referencedBackendKeys(db: MetaDb, snapshotter: string): Set<string> {
  const keys = new Set<string>();
  for (const { key } of db.list(namespacesPrefix)) {
    for (const { value } of db.list<SnapshotRecord>(snapshotterPrefix(String(key[1]), snapshotter))) keys.add(value.backendKey);
  }
  return keys;
}

/** Deepest first, so a snapshot goes before its parent (backends refuse to remove a parent). */
export function childrenFirst(all: readonly SnapshotInfo[], chosen: readonly SnapshotInfo[]): SnapshotInfo[] {
  const byName = new Map(all.map((i) => [i.name, i]));
  const depths = new Map<string, number>();
  const depth = (name: string, seen = new Set<string>()): number => {
    const known = depths.get(name);
    if (known !== undefined) return known;
    const parent = byName.get(name)?.parent ?? "";
    // A cycle cannot happen in a sane backend; guard anyway rather than recurse forever.
    const d = parent === "" || !byName.has(parent) || seen.has(parent) ? 0 : depth(parent, seen.add(name)) + 1;
    depths.set(name, d);
    return d;
  };
  return [...chosen].sort((a, b) => depth(b.name) - depth(a.name));
}

/**
 * Removes the backend snapshots that no record names: what a crash between a backend call and
 * its metadata transaction left behind, or a removal the backend refused at the time. The
 * backend is listed first and the records read after, in one synchronous step with the set of
 * snapshots being created: a snapshot the listing saw existed before that step, so its record
 * is either there, being written (in `creating`), or never coming. Returns the removed keys.
 */
export async function pruneUnreferencedSnapshots(target: PruneTarget, ctx: OpContext): Promise<string[]> {
  const { db, snapshotter, backend, creating, log } = target;
  const all: SnapshotInfo[] = [];
  for await (const info of backend.walk(ctx, [])) all.push(info);
  const referenced = referencedBackendKeys(db, snapshotter);
  for (const key of creating) referenced.add(key);

  const removed: string[] = [];
  for (const info of childrenFirst(all, all.filter((i) => !referenced.has(i.name)))) {
    try {
      await backend.remove(ctx, info.name);
      removed.push(info.name);
    } catch (err) {
      if (isNotFound(err)) continue;
      // Still a parent of something (another orphan that failed, or in use): next time.
      if (!isFailedPrecondition(err)) throw err;
      log.warn("unreferenced snapshot kept", { snapshotter, key: info.name, error: (err as Error).message });
    }
  }
  if (removed.length > 0) log.info("removed unreferenced snapshots", { snapshotter, count: removed.length });
  return removed;
}
