import {
  alreadyExists,
  failedPrecondition,
  internal,
  invalidArgument,
  notFound,
  parentAtCommit,
  parseFilters,
  type SnapshotInfo,
  type SnapshotOptions,
  type SnapshotUsage,
} from "@berth/core";
import { snapshotFields } from "./filter-adaptor.js";
import { childKey, childrenPrefix, SEQUENCE_KEY, snapshotKey, snapshotsPrefix } from "./keys.js";
import type { RawTx } from "./lmdb-env.js";
import { toStored, type SnapshotChain, type SnapshotRecord, type StoredSnapshot } from "./records.js";
import { unstorable, validateKey, validateLabels } from "./validate.js";

/** Reads, all from one state of the store. */
export interface SnapshotReader {
  /** NotFound when there is no snapshot `key`. */
  get(key: string): StoredSnapshot;
  find(key: string): StoredSnapshot | undefined;
  /** The id chain of an active snapshot or view; FailedPrecondition for a committed one. */
  chain(key: string): SnapshotChain;
  /** Snapshots matching any of `filters` (all if none), in key order. */
  walk(filters: readonly string[]): StoredSnapshot[];
  /** Every snapshot by id: what a backend's cleanup keeps. */
  byId(): Map<number, StoredSnapshot>;
  hasChildren(key: string): boolean;
  /**
   * Throws what create would refuse (bad key or labels, unknown or uncommitted parent, key
   * taken) and returns the parent id chain it would record: backends check before slow work.
   */
  checkCreate(key: string, parent: string, opts?: SnapshotOptions): readonly number[];
  /**
   * Throws what commit would refuse; returns the active snapshot it would commit, with the
   * parent it will have (`opts.parent` rebases a snapshot prepared without one).
   */
  checkCommit(key: string, name: string, opts?: SnapshotOptions): StoredSnapshot;
}

/** Mutations, each checked before it writes; a throw anywhere aborts the whole transaction. */
export interface SnapshotWriter extends SnapshotReader {
  /** A new active snapshot or view with a fresh id over committed `parent` ("" for none). */
  create(kind: "active" | "view", key: string, parent: string, opts?: SnapshotOptions): SnapshotChain;
  /**
   * Active `key` becomes committed `name` (same id, labels replaced by `opts.labels`, parent
   * set from `opts.parent` when it had none).
   */
  commit(key: string, name: string, usage: SnapshotUsage, opts?: SnapshotOptions): StoredSnapshot;
  /** Removes `key`; FailedPrecondition while it has children. Returns what was removed. */
  remove(key: string): StoredSnapshot;
  /** containerd's update: fieldpaths "labels" or "labels.<key>"; none replaces all labels. */
  update(info: Pick<SnapshotInfo, "name" | "labels">, fieldpaths: readonly string[]): StoredSnapshot;
}

export function snapshotReader(tx: RawTx): SnapshotReader {
  const record = (key: string) => (unstorable(key) ? undefined : tx.get<SnapshotRecord>(snapshotKey(key)));
  const find = (key: string) => {
    const r = record(key);
    return r === undefined ? undefined : toStored(key, r);
  };
  const get = (key: string) => {
    const found = find(key);
    if (!found) throw notFound(`snapshot ${JSON.stringify(key)} does not exist`);
    return found;
  };
  const parentIds = (parent: string) => parentChain(record, parent);
  /** NotFound or FailedPrecondition unless `parent` is a committed snapshot. */
  const requireCommitted = (parent: string) => {
    const p = find(parent);
    if (!p) throw notFound(`parent snapshot ${JSON.stringify(parent)} does not exist`);
    if (p.kind !== "committed") {
      throw failedPrecondition(`parent ${JSON.stringify(parent)} is ${p.kind === "view" ? "a view" : "active"}, not committed`);
    }
  };
  return {
    get,
    find,
    chain(key) {
      const s = get(key);
      if (s.kind === "committed") throw failedPrecondition(`snapshot ${JSON.stringify(key)} is committed, not active or a view`);
      return { id: s.id, kind: s.kind, parentIds: parentIds(s.parent) };
    },
    walk(filters) {
      const filter = parseFilters(filters);
      const out: StoredSnapshot[] = [];
      for (const { key, value } of tx.list<SnapshotRecord>(snapshotsPrefix)) {
        const s = toStored(String(key[1]), value);
        if (filter.match(snapshotFields(s))) out.push(s);
      }
      return out;
    },
    byId() {
      const ids = new Map<number, StoredSnapshot>();
      for (const { key, value } of tx.list<SnapshotRecord>(snapshotsPrefix)) ids.set(value.id, toStored(String(key[1]), value));
      return ids;
    },
    hasChildren: (key) => tx.any(childrenPrefix(get(key).id)),
    checkCreate(key, parent, opts = {}) {
      validateKey(key, "snapshot key");
      validateLabels({ ...opts.labels });
      let ids: number[] = [];
      if (parent !== "") {
        requireCommitted(parent);
        ids = parentIds(parent);
      }
      if (find(key)) throw alreadyExists(`snapshot ${JSON.stringify(key)} already exists`);
      return ids;
    },
    checkCommit(key, name, opts = {}) {
      validateKey(name, "committed snapshot name");
      validateLabels({ ...opts.labels });
      if (find(name)) throw alreadyExists(`snapshot ${JSON.stringify(name)} already exists`);
      const active = get(key);
      if (active.kind !== "active") throw failedPrecondition(`snapshot ${JSON.stringify(key)} is ${active.kind}, not active`);
      const parent = parentAtCommit(key, active.parent, opts.parent);
      if (parent !== active.parent) requireCommitted(parent);
      return { ...active, parent };
    },
  };
}

export function snapshotWriter(tx: RawTx): SnapshotWriter {
  const reader = snapshotReader(tx);
  const nextId = (): number => {
    const id = (tx.get<number>(SEQUENCE_KEY) ?? 0) + 1;
    tx.put(SEQUENCE_KEY, id);
    return id;
  };
  const put = (name: string, r: SnapshotRecord) => tx.put(snapshotKey(name), r);

  return {
    ...reader,
    create(kind, key, parent, opts = {}) {
      const parentIds = reader.checkCreate(key, parent, opts);
      const id = nextId();
      const now = new Date();
      put(key, { id, kind, parent, labels: { ...opts.labels }, createdAt: now, updatedAt: now, size: 0, inodes: 0 });
      if (parentIds[0] !== undefined) tx.put(childKey(parentIds[0], id), key);
      return { id, kind, parentIds };
    },

    commit(key, name, usage, opts = {}) {
      const active = reader.checkCommit(key, name, opts);
      const now = new Date();
      const committed: SnapshotRecord = {
        id: active.id,
        kind: "committed",
        parent: active.parent,
        labels: { ...opts.labels },
        createdAt: now,
        updatedAt: now,
        size: usage.size,
        inodes: usage.inodes,
      };
      tx.remove(snapshotKey(key));
      put(name, committed);
      if (active.parent !== "") tx.put(childKey(reader.get(active.parent).id, active.id), name);
      return toStored(name, committed);
    },

    remove(key) {
      const s = reader.get(key);
      if (tx.any(childrenPrefix(s.id))) {
        throw failedPrecondition(`cannot remove snapshot ${JSON.stringify(key)}: it has children`);
      }
      if (s.parent !== "") tx.remove(childKey(reader.get(s.parent).id, s.id));
      tx.remove(snapshotKey(key));
      return s;
    },

    update(info, fieldpaths) {
      const s = reader.get(info.name);
      const given = info.labels ?? {};
      let labels: Record<string, string> = { ...s.labels };
      if (fieldpaths.length === 0) labels = { ...given };
      for (const path of fieldpaths) {
        if (path === "labels") {
          labels = { ...given };
        } else if (path.startsWith("labels.")) {
          const label = path.slice("labels.".length);
          const value = Object.hasOwn(given, label) ? given[label] : undefined;
          // As in containerd's metadata: naming a label without a value removes it.
          if (value === undefined || value === "") delete labels[label];
          else labels[label] = value;
        } else {
          throw invalidArgument(`cannot update ${JSON.stringify(path)} of snapshot ${JSON.stringify(info.name)}`);
        }
      }
      validateLabels(labels);
      const record: SnapshotRecord = { ...recordOf(s), labels, updatedAt: new Date() };
      put(info.name, record);
      return toStored(info.name, record);
    },
  };
}

function recordOf(s: StoredSnapshot): SnapshotRecord {
  return {
    id: s.id,
    kind: s.kind,
    parent: s.parent,
    labels: s.labels,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    size: s.usage.size,
    inodes: s.usage.inodes,
  };
}

/** Ids from `parent` up to the root, nearest first, following parent names. */
function parentChain(lookup: (name: string) => { readonly id: number; readonly parent: string } | undefined, parent: string): number[] {
  const ids: number[] = [];
  for (let name = parent; name !== ""; ) {
    const r = lookup(name);
    if (!r) throw internal(`snapshot storage: parent ${JSON.stringify(name)} of a chain is missing`);
    ids.push(r.id);
    name = r.parent;
  }
  return ids;
}
