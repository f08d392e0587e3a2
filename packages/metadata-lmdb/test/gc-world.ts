// A real world for garbage collection tests: metadata over the local content store and the
// overlayfs snapshotter, all in one temp dir, with hooks to make backend removals fail.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "vitest";
import { internal, type ContentStore, type Snapshotter } from "@berth/core";
import { createLocalContentStore, type LocalContentStore } from "@berth/content-local";
import { createOverlaySnapshotter, type OverlaySnapshotter } from "@berth/snapshot-overlay";
import { openMetadataStore, type LmdbMetadataStore, type MetadataStoreOptions } from "../src/index.js";
import { afterThisTest, collect, tempDir } from "./helpers.js";

export const SNAPSHOTTER = "overlayfs";

/** Counts removals and, once armed, fails every one after the first `allowed`: a backend that dies mid-sweep. */
export class FaultSwitch {
  allowed = Infinity;
  done = 0;
  /** A slow disk: each removal waits this long before it starts. */
  delayMs = 0;

  arm(allowed: number): void {
    this.allowed = allowed;
    this.done = 0;
  }

  disarm(): void {
    this.allowed = Infinity;
  }

  async pass(what: string): Promise<void> {
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (this.done >= this.allowed) throw internal(`injected failure removing ${what}`);
    this.done++;
  }
}

function faultyContent(backend: ContentStore, faults: FaultSwitch): ContentStore {
  return {
    ...bindAll(backend),
    delete: async (ctx, digest) => {
      await faults.pass(digest);
      return backend.delete(ctx, digest);
    },
  };
}

function faultySnapshotter(backend: Snapshotter, faults: FaultSwitch): Snapshotter {
  return {
    ...bindAll(backend),
    remove: async (ctx, key) => {
      await faults.pass(key);
      return backend.remove(ctx, key);
    },
  };
}

/** An object whose methods are `target`'s, bound to it (class instances keep methods on the prototype). */
function bindAll<T extends object>(target: T): T {
  const out: Record<string, unknown> = {};
  for (let proto: object | null = target; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const value = (target as Record<string, unknown>)[name];
      if (name !== "constructor" && typeof value === "function" && !(name in out)) out[name] = value.bind(target);
    }
  }
  return out as T;
}

export interface GcWorld {
  readonly dir: string;
  readonly content: LocalContentStore;
  readonly overlay: OverlaySnapshotter;
  readonly faults: FaultSwitch;
  readonly store: LmdbMetadataStore;
  /** Closes the store (not the backends) and opens it again: a daemon restart. */
  restart(opts?: MetadataStoreOptions): Promise<LmdbMetadataStore>;
  /** Digests of the blobs on disk. */
  blobsOnDisk(): Promise<string[]>;
  /** Backend snapshot names (`<ns>/<seq>/<key>`). */
  backendSnapshots(): Promise<string[]>;
  /** Snapshot directories on disk. */
  snapshotDirs(): Promise<string[]>;
}

export async function gcWorld(opts: MetadataStoreOptions = {}): Promise<GcWorld> {
  if (process.getuid?.() !== 0) throw new Error("garbage collection tests use the overlayfs snapshotter: run them as root");
  const dir = await tempDir();
  const content = await createLocalContentStore(join(dir, "content"));
  const overlay = await createOverlaySnapshotter(join(dir, "overlayfs"), { syncRemove: true });
  const faults = new FaultSwitch();
  const open = (o: MetadataStoreOptions) =>
    openMetadataStore(join(dir, "meta.lmdb"), faultyContent(content, faults), {
      ...o,
      snapshotters: new Map([[SNAPSHOTTER, faultySnapshotter(overlay, faults)]]),
    });
  let store = await open(opts);
  const world: GcWorld = {
    dir,
    content,
    overlay,
    faults,
    get store() {
      return store;
    },
    async restart(next = opts) {
      await store.close();
      store = await open(next);
      return store;
    },
    blobsOnDisk: async () => (await readdir(join(dir, "content", "blobs", "sha256"))).map((hex) => `sha256:${hex}`).sort(),
    backendSnapshots: async () => (await collect(overlay.walk({ namespace: "" }, []))).map((i) => i.name).sort(),
    snapshotDirs: async () => (await readdir(join(dir, "overlayfs", "snapshots"))).sort(),
  };
  // Registered after the temp dir, so it runs before the dir is removed.
  afterThisTest(async () => {
    await store.close();
    await overlay.close();
  });
  return world;
}

/** Every backend snapshot's directory exists and nothing else does. */
export async function expectSnapshotDirsMatch(world: GcWorld): Promise<void> {
  const names = await world.backendSnapshots();
  expect((await world.snapshotDirs()).length).toBe(names.length);
}
