import {
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  isAlreadyExists,
  isNotFound,
  lookupLabel,
  notFound,
  parentAtCommit,
  parseFilters,
  unknown as unknownError,
  type FieldLookup,
  type Logger,
  type Mount,
  type OpContext,
  type SnapshotInfo,
  type SnapshotOptions,
  type Snapshotter,
} from "@berth/core";
import type { MetaDb, ReadTx, WriteTx } from "./db.js";
import { SNAPSHOT_SEQUENCE_KEY, leaseKey, snapshotChildKey, snapshotChildrenPrefix, snapshotKey, snapshotterPrefix } from "./keys.js";
import { holdInLease, releaseFromLease } from "./leases.js";
import { applyLabelPath, fromPairs, ownValue, toPairs } from "./maps.js";
import { ensureNamespace } from "./namespaces.js";
import type { SnapshotRecord } from "./records.js";
import { abandonCommit, finishCommit, snapshotResourceType, visibleSnapshot } from "./snapshot-commit.js";
import { pruneUnreferencedSnapshots } from "./snapshot-cleanup.js";
import { SNAPSHOT_REF_LABEL, changedInheritedKeys, inheritedLabels } from "./snapshot-labels.js";
import { namespaceOf, validateKeyPart, validateLabels } from "./validate.js";

export interface NamespacedSnapshotterOptions {
  readonly db: MetaDb;
  /** The backend's plugin id ("overlayfs"): part of every record's key and of lease resource types. */
  readonly name: string;
  readonly backend: Snapshotter;
  readonly log: Logger;
  /**
   * Where backend keys being created (not yet recorded) are kept, so that whoever prunes
   * unreferenced backend snapshots (cleanup here, the garbage collector) leaves them alone.
   * Default: a set of this snapshotter's own.
   */
  readonly creating?: Set<string>;
}

export const toSnapshotInfo = (name: string, r: SnapshotRecord): SnapshotInfo => ({
  kind: r.kind,
  name,
  parent: r.parent,
  labels: fromPairs(r.labels),
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

/** containerd's snapshot filter fields: kind, name, parent (present even when empty), labels.<k>. */
const snapshotFields =
  (info: SnapshotInfo): FieldLookup =>
  (path) => {
    switch (path[0]) {
      case "kind":
        return info.kind;
      case "name":
        return info.name;
      case "parent":
        return info.parent;
      case "labels":
        return lookupLabel(info.labels, path.slice(1));
      default:
        return undefined;
    }
  };

/** `<namespace>/<seq>/<key>`: never the same for two namespaces, nor for a key used again. */
function nextBackendKey(tx: WriteTx, ns: string, key: string): string {
  const seq = (tx.get<number>(SNAPSHOT_SEQUENCE_KEY) ?? 0) + 1;
  tx.put(SNAPSHOT_SEQUENCE_KEY, seq);
  return `${ns}/${seq}/${key}`;
}

/**
 * The parent a commit gives the snapshot: its own, or `requested` for one prepared without a
 * parent (containerd's rebase at commit; the backend is told its own key for that parent).
 */
function rebasedParent(
  tx: ReadTx,
  at: { ns: string; snapshotter: string; key: string },
  active: SnapshotRecord,
  requested: string | undefined,
): { name: string; rebaseOnto?: string } {
  const name = parentAtCommit(at.key, active.parent, requested);
  if (name === active.parent) return { name };
  return { name, rebaseOnto: committedParent(tx, at.ns, at.snapshotter, name).backendKey };
}

/** The record of `parent`; NotFound or FailedPrecondition unless it is a committed snapshot. */
function committedParent(tx: ReadTx, ns: string, snapshotter: string, parent: string): SnapshotRecord {
  const p = visibleSnapshot(tx, ns, snapshotter, parent);
  if (!p) throw notFound(`parent snapshot ${JSON.stringify(parent)} does not exist`);
  if (p.kind !== "committed") throw failedPrecondition(`parent snapshot ${JSON.stringify(parent)} is not committed`);
  return p;
}

/** The caller's lease must exist before anything is created for it (containerd: NotFound). */
function checkLease(tx: ReadTx, ns: string, lease: string | undefined): void {
  if (lease && !tx.has(leaseKey(ns, lease))) throw notFound(`lease ${JSON.stringify(lease)} does not exist`);
}

/** Labels after an update mask: "labels" or none replace them all, "labels.<k>" sets or removes one. */
function maskLabels(
  name: string,
  current: Readonly<Record<string, string>>,
  incoming: Readonly<Record<string, string>>,
  fieldpaths: readonly string[],
): Record<string, string> {
  if (fieldpaths.length === 0) return fromPairs(toPairs(incoming));
  let labels = { ...current };
  for (const path of fieldpaths) {
    const next = applyLabelPath(path, labels, incoming);
    if (!next) throw invalidArgument(`cannot update ${JSON.stringify(path)} field on snapshot ${JSON.stringify(name)}`);
    labels = next;
  }
  return labels;
}

const snapshotMissing = (key: string) => notFound(`snapshot ${JSON.stringify(key)} does not exist`);

/**
 * A backend snapshotter seen through namespaces, as containerd's metadata snapshotter: each
 * namespace's keys map to backend keys of their own, parents resolve in the caller's
 * namespace, labels and timestamps live here (the backend gets only inherited labels), and
 * leases hold what is created under them.
 *
 * Backend calls are async and cannot run inside an lmdb transaction, so each mutation orders
 * them so that a crash or failure between the two leaves at worst a backend snapshot no record
 * names, which `cleanup` removes: create = reserve a backend key, create in the backend, then
 * record (re-checking what the first transaction saw); remove = drop the record, then the
 * backend snapshot; commit = record the name as pending, commit in the backend, then settle
 * (snapshot-commit.ts).
 */
export function createNamespacedSnapshotter(opts: NamespacedSnapshotterOptions): Snapshotter {
  const { db, name: snapshotter, backend, log } = opts;
  const resourceType = snapshotResourceType(snapshotter);
  // Backend keys created but not yet recorded: cleanup must not take them for orphans.
  const creating = opts.creating ?? new Set<string>();

  const resolve = (ns: string, key: string): SnapshotRecord => {
    const record = visibleSnapshot(db, ns, snapshotter, key);
    if (!record) throw snapshotMissing(key);
    return record;
  };

  /**
   * A remote snapshotter answered AlreadyExists for `target`: the committed snapshot it has,
   * as the record to keep under the target's name (the caller's labels win).
   */
  async function targetRecord(
    ctx: OpContext,
    target: string,
    parent: string,
    backendParent: string,
    labels: Record<string, string>,
  ): Promise<SnapshotRecord> {
    for await (const info of backend.walk(ctx, [])) {
      if (info.kind === "committed" && info.parent === backendParent && ownValue(info.labels, SNAPSHOT_REF_LABEL) === target) {
        const { name: backendKey, createdAt, updatedAt } = info;
        return { backendKey, parent, kind: "committed", labels: toPairs({ ...info.labels, ...labels }), createdAt, updatedAt };
      }
    }
    throw notFound(`target snapshot ${JSON.stringify(target)} in backend`);
  }

  /** First transaction of prepare/view: checks, and a backend key; or what already exists. */
  function reserve(tx: WriteTx, ns: string, lease: string | undefined, key: string, parent: string, target: string | undefined) {
    ensureNamespace(tx, ns);
    checkLease(tx, ns, lease);
    // Already here: the caller's lease still takes it, as in containerd.
    for (const existing of target ? [target, key] : [key]) {
      if (tx.has(snapshotKey(ns, snapshotter, existing))) {
        holdInLease(tx, ns, lease, resourceType, existing);
        return { exists: existing === key ? `snapshot ${JSON.stringify(key)}` : `target snapshot ${JSON.stringify(target)}` };
      }
    }
    let backendParent = "";
    if (parent !== "") backendParent = committedParent(tx, ns, snapshotter, parent).backendKey;
    return { backendKey: nextBackendKey(tx, ns, key), backendParent };
  }

  /** Last transaction of prepare/view: re-checks what `reserve` saw, then records. False when the key was taken meanwhile. */
  function record(tx: WriteTx, ns: string, lease: string | undefined, key: string, value: SnapshotRecord, backendParent: string): boolean {
    holdInLease(tx, ns, lease, resourceType, key);
    if (tx.has(snapshotKey(ns, snapshotter, key))) return false;
    if (value.parent !== "") {
      const p = visibleSnapshot(tx, ns, snapshotter, value.parent);
      if (!p) throw notFound(`parent snapshot ${JSON.stringify(value.parent)} does not exist`);
      // A target found under another parent, or a parent removed and made again meanwhile.
      if (p.backendKey !== backendParent) {
        throw invalidArgument(`parent ${JSON.stringify(value.parent)} does not match the backend snapshot's parent`);
      }
      tx.put(snapshotChildKey(ns, snapshotter, value.parent, key), true);
    }
    tx.put(snapshotKey(ns, snapshotter, key), value);
    return true;
  }

  async function create(ctx: OpContext, kind: "active" | "view", key: string, parent: string, opts?: SnapshotOptions): Promise<Mount[]> {
    const ns = namespaceOf(ctx);
    validateKeyPart(key, "snapshot key");
    const labels = fromPairs(toPairs(opts?.labels));
    validateLabels(labels, "info.labels");
    const target = ownValue(labels, SNAPSHOT_REF_LABEL);

    const plan = await db.commit((tx) => reserve(tx, ns, ctx.lease, key, parent, target));
    if ("exists" in plan) throw alreadyExists(`${plan.exists} already exists`);
    const { backendKey, backendParent } = plan;

    creating.add(backendKey);
    let created = "";
    try {
      let mounts: Mount[];
      try {
        const backendOpts = { labels: inheritedLabels(labels) };
        mounts =
          kind === "view"
            ? await backend.view(ctx, backendKey, backendParent, backendOpts)
            : await backend.prepare(ctx, backendKey, backendParent, backendOpts);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        // Only a snapshotter that found the target (a remote one) may say so; for a fresh key
        // it is the backend's error, and must not read as "the caller's key exists".
        if (!target) throw unknownError(`unexpected error from snapshotter ${snapshotter}: ${(err as Error).message}`, err);
        const found = await targetRecord(ctx, target, parent, backendParent, labels);
        if (!(await db.commit((tx) => record(tx, ns, ctx.lease, target, found, backendParent)))) {
          throw alreadyExists(`snapshot ${JSON.stringify(target)} already exists`);
        }
        throw alreadyExists(`target snapshot ${JSON.stringify(target)} from snapshotter`);
      }
      created = backendKey;
      const now = new Date();
      const value: SnapshotRecord = { backendKey, parent, kind, labels: toPairs(labels), createdAt: now, updatedAt: now };
      if (!(await db.commit((tx) => record(tx, ns, ctx.lease, key, value, backendParent)))) {
        throw alreadyExists(`snapshot ${JSON.stringify(key)} already exists`);
      }
      created = "";
      return mounts;
    } catch (err) {
      if (created !== "") await removeBackend(created, "unrecorded");
      throw err;
    } finally {
      creating.delete(backendKey);
    }
  }

  /** Removes a snapshot no record names any more; a failure is only logged: cleanup retries it. */
  async function removeBackend(backendKey: string, why: string): Promise<void> {
    try {
      // Not the caller's signal: the record is already gone, finishing is the tidy outcome.
      await backend.remove({ namespace: "" }, backendKey);
    } catch (err) {
      if (isNotFound(err)) return;
      log.warn("backend snapshot left for cleanup", { snapshotter, key: backendKey, why, error: (err as Error).message });
    }
  }

  return {
    async stat(ctx, key) {
      return toSnapshotInfo(key, resolve(namespaceOf(ctx), key));
    },

    async update(ctx, info, fieldpaths) {
      const ns = namespaceOf(ctx);
      if (!info.name) throw invalidArgument("snapshot name is required for update");
      const current = resolve(ns, info.name);
      const before = fromPairs(current.labels);
      const labels = maskLabels(info.name, before, info.labels, fieldpaths);
      validateLabels(labels, "info.labels");
      // The backend hears of its own labels only, and only when they change.
      const changed = changedInheritedKeys(before, labels);
      if (changed.length > 0) {
        await backend.update(ctx, { name: current.backendKey, labels: inheritedLabels(labels) }, changed.map((k) => `labels.${k}`));
      }
      return db.commit((tx) => {
        const record = visibleSnapshot(tx, ns, snapshotter, info.name);
        if (!record || record.backendKey !== current.backendKey) throw snapshotMissing(info.name);
        // Applied again to what is stored now, so a concurrent update to other labels stays.
        const next = maskLabels(info.name, fromPairs(record.labels), info.labels, fieldpaths);
        const updated: SnapshotRecord = { ...record, labels: toPairs(next), updatedAt: new Date() };
        tx.put(snapshotKey(ns, snapshotter, info.name), updated);
        return toSnapshotInfo(info.name, updated);
      });
    },

    async usage(ctx, key) {
      return backend.usage(ctx, resolve(namespaceOf(ctx), key).backendKey);
    },

    async mounts(ctx, key) {
      return backend.mounts(ctx, resolve(namespaceOf(ctx), key).backendKey);
    },

    prepare: (ctx, key, parent, opts) => create(ctx, "active", key, parent, opts),

    view: (ctx, key, parent, opts) => create(ctx, "view", key, parent, opts),

    /** The committed snapshot gets `opts.labels` only, as in containerd; the active one's labels go with it. */
    async commit(ctx, name, key, opts) {
      const ns = namespaceOf(ctx);
      validateKeyPart(name, "snapshot name");
      const labels = fromPairs(toPairs(opts?.labels));
      validateLabels(labels, "info.labels");
      const now = new Date();
      const plan = await db.commit((tx) => {
        checkLease(tx, ns, ctx.lease);
        if (tx.has(snapshotKey(ns, snapshotter, name))) {
          holdInLease(tx, ns, ctx.lease, resourceType, name);
          return undefined;
        }
        const active = visibleSnapshot(tx, ns, snapshotter, key);
        if (!active) throw snapshotMissing(key);
        if (active.kind !== "active") throw failedPrecondition(`snapshot ${JSON.stringify(key)} is a ${active.kind} snapshot, not active`);
        if (active.committingTo !== undefined) {
          throw failedPrecondition(`snapshot ${JSON.stringify(key)} is being committed as ${JSON.stringify(active.committingTo)}`);
        }
        const parent = rebasedParent(tx, { ns, snapshotter, key }, active, opts?.parent);
        const nameKey = nextBackendKey(tx, ns, name);
        const pending: SnapshotRecord = {
          backendKey: nameKey,
          parent: parent.name,
          kind: "committed",
          labels: toPairs(labels),
          createdAt: now,
          updatedAt: now,
          pending: ctx.lease ? { fromKey: key, lease: ctx.lease } : { fromKey: key },
        };
        tx.put(snapshotKey(ns, snapshotter, name), pending);
        tx.put(snapshotKey(ns, snapshotter, key), { ...active, committingTo: name } satisfies SnapshotRecord);
        // The parent gains the name now, and keeps the key until the commit settles: it cannot go meanwhile.
        if (parent.name !== "") tx.put(snapshotChildKey(ns, snapshotter, parent.name, name), true);
        return { nameKey, fromBackendKey: active.backendKey, rebaseOnto: parent.rebaseOnto };
      });
      if (!plan) throw alreadyExists(`snapshot ${JSON.stringify(name)} already exists`);

      try {
        const backendOpts = { labels: inheritedLabels(labels), parent: plan.rebaseOnto };
        await backend.commit(ctx, plan.nameKey, plan.fromBackendKey, backendOpts);
      } catch (err) {
        await db.commit((tx) => abandonCommit(tx, ns, snapshotter, name));
        throw err;
      }
      await db.commit((tx) => finishCommit(tx, ns, snapshotter, name));
    },

    /** FailedPrecondition while other snapshots name it as parent. The backend snapshot goes after the record. */
    async remove(ctx, key) {
      const ns = namespaceOf(ctx);
      const backendKey = await db.commit((tx) => {
        const record = visibleSnapshot(tx, ns, snapshotter, key);
        if (!record) throw snapshotMissing(key);
        if (record.committingTo !== undefined) {
          throw failedPrecondition(`snapshot ${JSON.stringify(key)} is being committed as ${JSON.stringify(record.committingTo)}`);
        }
        if (tx.any(snapshotChildrenPrefix(ns, snapshotter, key))) {
          throw failedPrecondition(`cannot remove snapshot ${JSON.stringify(key)} with child`);
        }
        if (record.parent !== "") tx.remove(snapshotChildKey(ns, snapshotter, record.parent, key));
        tx.remove(snapshotKey(ns, snapshotter, key));
        releaseFromLease(tx, ns, ctx.lease, resourceType, key);
        // The backend snapshot goes just below; if that fails, the collector's sweep retries it.
        tx.markDirty({ snapshotter });
        return record.backendKey;
      });
      await removeBackend(backendKey, "removed");
    },

    async *walk(ctx, filters) {
      const ns = namespaceOf(ctx);
      const filter = parseFilters(filters);
      for (const { key, value } of db.list<SnapshotRecord>(snapshotterPrefix(ns, snapshotter))) {
        if (value.pending) continue;
        const info = toSnapshotInfo(String(key[4]), value);
        if (filter.match(snapshotFields(info))) yield info;
      }
    },

    /** Removes backend snapshots no namespace's record names (left by a crash), then the backend's own leftovers. */
    async cleanup(ctx) {
      namespaceOf(ctx);
      await pruneUnreferencedSnapshots({ db, snapshotter, backend, creating, log }, ctx);
      await backend.cleanup(ctx);
    },

    // The backend is a plugin of its own and closes itself; this view holds nothing.
    async close() {},
  };
}
