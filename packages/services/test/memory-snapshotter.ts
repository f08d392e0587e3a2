import { alreadyExists, failedPrecondition, notFound, type Mount, type SnapshotInfo, type SnapshotKind, type Snapshotter } from "@berth/core";

/**
 * A backend Snapshotter in memory with core's contract (ignores namespaces; AlreadyExists for
 * a reused key, FailedPrecondition for removing a parent), for the services' tests: the real
 * namespacing of @berth/metadata-lmdb runs over it. Mounts name a bind of `/memory/<key>`.
 */
export interface MemorySnapshotter extends Snapshotter {
  readonly snapshots: Map<string, SnapshotInfo>;
  cleanups: number;
}

export function createMemorySnapshotter(): MemorySnapshotter {
  const snapshots = new Map<string, SnapshotInfo>();
  const get = (key: string) => {
    const info = snapshots.get(key);
    if (!info) throw notFound(`backend snapshot ${key} does not exist`);
    return info;
  };
  const mountsOf = (info: SnapshotInfo): Mount[] => [
    { type: "bind", source: `/memory/${info.name}`, options: [info.kind === "view" ? "ro" : "rw", "rbind"] },
  ];
  const create = (kind: SnapshotKind, key: string, parent: string, labels: Readonly<Record<string, string>> = {}) => {
    if (snapshots.has(key)) throw alreadyExists(`backend snapshot ${key} already exists`);
    if (parent !== "" && get(parent).kind !== "committed") throw failedPrecondition(`parent ${parent} is not committed`);
    const now = new Date();
    const info: SnapshotInfo = { kind, name: key, parent, labels: { ...labels }, createdAt: now, updatedAt: now };
    snapshots.set(key, info);
    return mountsOf(info);
  };

  const backend: MemorySnapshotter = {
    snapshots,
    cleanups: 0,
    stat: async (_ctx, key) => get(key),
    update: async (_ctx, info) => {
      const updated = { ...get(info.name), labels: { ...info.labels }, updatedAt: new Date() };
      snapshots.set(info.name, updated);
      return updated;
    },
    usage: async (_ctx, key) => (get(key), { size: 8192, inodes: 2 }),
    mounts: async (_ctx, key) => {
      const info = get(key);
      if (info.kind === "committed") throw failedPrecondition(`backend snapshot ${key} is committed`);
      return mountsOf(info);
    },
    prepare: async (_ctx, key, parent, opts) => create("active", key, parent, opts?.labels),
    view: async (_ctx, key, parent, opts) => create("view", key, parent, opts?.labels),
    commit: async (_ctx, name, key, opts) => {
      const active = get(key);
      if (active.kind !== "active") throw failedPrecondition(`backend snapshot ${key} is not active`);
      if (snapshots.has(name)) throw alreadyExists(`backend snapshot ${name} already exists`);
      const now = new Date();
      snapshots.delete(key);
      snapshots.set(name, { kind: "committed", name, parent: opts?.parent || active.parent, labels: { ...opts?.labels }, createdAt: now, updatedAt: now });
    },
    remove: async (_ctx, key) => {
      get(key);
      if ([...snapshots.values()].some((s) => s.parent === key)) throw failedPrecondition(`backend snapshot ${key} has children`);
      snapshots.delete(key);
    },
    async *walk() {
      yield* [...snapshots.values()];
    },
    cleanup: async () => {
      backend.cleanups++;
    },
    close: async () => {},
  };
  return backend;
}
