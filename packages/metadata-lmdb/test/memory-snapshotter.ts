import {
  alreadyExists,
  failedPrecondition,
  lookupLabel,
  notFound,
  parseFilters,
  type Mount,
  type SnapshotInfo,
  type SnapshotKind,
  type Snapshotter,
} from "@berth/core";

/** A point where a test can step into a backend call: before it acts, or after it acted. */
export type Interceptor = (phase: "before" | "after", key: string) => Promise<void> | void;

/**
 * A backend Snapshotter in memory with core's contract (ignores namespaces; AlreadyExists for
 * a reused key, FailedPrecondition for removing a parent or preparing on a non-committed one),
 * plus what the tests look at: the snapshots it holds, the labels it was given, and hooks that
 * let a call fail or never return, before or after it took effect (a crash, seen from metadata).
 */
export interface MemorySnapshotter extends Snapshotter {
  readonly snapshots: Map<string, SnapshotInfo>;
  readonly intercept: Partial<Record<"prepare" | "view" | "commit" | "remove" | "update", Interceptor>>;
  cleanups: number;
}

/** Never settles: the call "crashed" there. */
export const hang = (): Promise<never> => new Promise(() => {});

export function createMemorySnapshotter(): MemorySnapshotter {
  const snapshots = new Map<string, SnapshotInfo>();
  const intercept: MemorySnapshotter["intercept"] = {};

  const get = (key: string) => {
    const info = snapshots.get(key);
    if (!info) throw notFound(`backend snapshot ${key} does not exist`);
    return info;
  };
  const mountsOf = (info: SnapshotInfo): Mount[] => [
    { type: "bind", source: `/memory/${info.name}`, options: [info.kind === "view" ? "ro" : "rw", "rbind"] },
  ];

  async function create(kind: SnapshotKind, key: string, parent: string, labels: Readonly<Record<string, string>> = {}) {
    await intercept[kind === "view" ? "view" : "prepare"]?.("before", key);
    if (snapshots.has(key)) throw alreadyExists(`backend snapshot ${key} already exists`);
    if (parent !== "" && get(parent).kind !== "committed") throw failedPrecondition(`parent ${parent} is not committed`);
    const now = new Date();
    const info: SnapshotInfo = { kind, name: key, parent, labels: { ...labels }, createdAt: now, updatedAt: now };
    snapshots.set(key, info);
    await intercept[kind === "view" ? "view" : "prepare"]?.("after", key);
    return mountsOf(info);
  }

  const store: MemorySnapshotter = {
    snapshots,
    intercept,
    cleanups: 0,

    async stat(_ctx, key) {
      return get(key);
    },

    async update(_ctx, info, fieldpaths) {
      await intercept.update?.("before", info.name);
      const current = get(info.name);
      let labels = { ...current.labels };
      if (fieldpaths.length === 0) labels = { ...info.labels };
      for (const path of fieldpaths) {
        if (path === "labels") labels = { ...info.labels };
        else if (path.startsWith("labels.")) {
          const k = path.slice("labels.".length);
          const v = Object.hasOwn(info.labels, k) ? info.labels[k] : undefined;
          if (v === undefined || v === "") delete labels[k];
          else labels[k] = v;
        }
      }
      const updated = { ...current, labels, updatedAt: new Date() };
      snapshots.set(info.name, updated);
      return updated;
    },

    async usage(_ctx, key) {
      get(key);
      return { size: 4096, inodes: 1 };
    },

    async mounts(_ctx, key) {
      const info = get(key);
      if (info.kind === "committed") throw failedPrecondition(`backend snapshot ${key} is committed`);
      return mountsOf(info);
    },

    prepare: (_ctx, key, parent, opts) => create("active", key, parent, opts?.labels),
    view: (_ctx, key, parent, opts) => create("view", key, parent, opts?.labels),

    async commit(_ctx, name, key, opts) {
      await intercept.commit?.("before", key);
      const active = get(key);
      if (active.kind !== "active") throw failedPrecondition(`backend snapshot ${key} is not active`);
      if (snapshots.has(name)) throw alreadyExists(`backend snapshot ${name} already exists`);
      const now = new Date();
      snapshots.delete(key);
      snapshots.set(name, { kind: "committed", name, parent: active.parent, labels: { ...opts?.labels }, createdAt: now, updatedAt: now });
      await intercept.commit?.("after", key);
    },

    async remove(_ctx, key) {
      await intercept.remove?.("before", key);
      get(key);
      if ([...snapshots.values()].some((s) => s.parent === key)) throw failedPrecondition(`backend snapshot ${key} has children`);
      snapshots.delete(key);
      await intercept.remove?.("after", key);
    },

    async *walk(_ctx, filters) {
      const filter = parseFilters(filters);
      for (const info of [...snapshots.values()]) {
        const fields = (path: readonly string[]) =>
          path[0] === "labels" ? lookupLabel(info.labels, path.slice(1)) : path[0] === "kind" ? info.kind : path[0] === "name" ? info.name : path[0] === "parent" ? info.parent : undefined;
        if (filter.match(fields)) yield info;
      }
    },

    async cleanup() {
      store.cleanups++;
    },

    async close() {},
  };
  return store;
}
