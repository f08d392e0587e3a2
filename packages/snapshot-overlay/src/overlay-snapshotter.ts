import { chownSync, mkdirSync, mkdtempSync, statSync } from "node:fs";
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  aborted,
  silentLogger,
  type Logger,
  type Mount,
  type OpContext,
  type SnapshotInfo,
  type SnapshotOptions,
  type SnapshotUsage,
  type Snapshotter,
} from "@berth/core";
import {
  diskUsage,
  openSnapshotStorage,
  placeNewSnapshot,
  toInfo,
  type SnapshotStorage,
  type StoredSnapshot,
} from "@berth/snapshot-storage";
import { OverlayLayout, TEMP_PREFIX } from "./layout.js";
import { overlayMounts } from "./overlay-mounts.js";

/** containerd's label for a snapshot's upper directory (with `upperdirLabel`). */
export const UPPERDIR_LABEL = "containerd.io/snapshot/overlay.upperdir";

export interface OverlaySnapshotterOptions {
  /** Add UPPERDIR_LABEL to what stat, update and walk return, as containerd's upperdir_label does. */
  readonly upperdirLabel?: boolean;
  /**
   * Remove returns once the snapshot's files are deleted. Otherwise (the default) deletion
   * runs in the background; close and cleanup wait for it.
   */
  readonly syncRemove?: boolean;
  /** Options added to every overlay mount (not to binds), e.g. "index=off", "volatile". */
  readonly mountOptions?: readonly string[];
  readonly log?: Logger;
}

export interface OverlaySnapshotter extends Snapshotter {
  /** Where snapshots and metadata live. */
  readonly root: string;
}

/**
 * containerd's overlayfs snapshotter: a directory per snapshot id under `root`, metadata in
 * @berth/snapshot-storage, overlay mounts of the parent chain. The kernel's overlay support is
 * the caller's to check (probeOverlay); this only builds directories and mount descriptions.
 */
export async function createOverlaySnapshotter(root: string, opts: OverlaySnapshotterOptions = {}): Promise<OverlaySnapshotter> {
  const layout = new OverlayLayout(root);
  await mkdir(root, { recursive: true, mode: 0o700 });
  await mkdir(layout.snapshots, { recursive: true, mode: 0o700 });
  const storage = await openSnapshotStorage(layout.metadata);
  return new Overlay(layout, storage, opts);
}

class Overlay implements OverlaySnapshotter {
  readonly #layout: OverlayLayout;
  readonly #storage: SnapshotStorage;
  readonly #opts: OverlaySnapshotterOptions;
  readonly #log: Logger;
  /**
   * Directories being built, which cleanup must not take for orphans: a temporary one, and
   * from its rename until the metadata naming it has committed, the snapshot's own.
   */
  readonly #building = new Set<string>();
  /** Deletions running in the background (without syncRemove). */
  readonly #deleting = new Set<Promise<void>>();
  #closing: Promise<void> | undefined;

  constructor(layout: OverlayLayout, storage: SnapshotStorage, opts: OverlaySnapshotterOptions) {
    this.#layout = layout;
    this.#storage = storage;
    this.#opts = opts;
    this.#log = opts.log ?? silentLogger;
  }

  get root(): string {
    return this.#layout.root;
  }

  async stat(_ctx: OpContext, key: string): Promise<SnapshotInfo> {
    return this.#present(this.#storage.read((tx) => tx.get(key)));
  }

  async update(_ctx: OpContext, info: Pick<SnapshotInfo, "name" | "labels">, fieldpaths: readonly string[]): Promise<SnapshotInfo> {
    return this.#present(await this.#storage.write((tx) => tx.update(info, fieldpaths)));
  }

  async usage(ctx: OpContext, key: string): Promise<SnapshotUsage> {
    const s = this.#storage.read((tx) => tx.get(key));
    // A committed layer never changes: its usage was measured once, at commit.
    if (s.kind === "committed") return s.usage;
    return diskUsage(this.#layout.upper(s.id), ctx.signal);
  }

  async mounts(_ctx: OpContext, key: string): Promise<Mount[]> {
    const chain = this.#storage.read((tx) => tx.chain(key));
    return overlayMounts(this.#layout, chain, this.#overlayOptions());
  }

  prepare(ctx: OpContext, key: string, parent: string, opts?: SnapshotOptions): Promise<Mount[]> {
    return this.#create(ctx, "active", key, parent, opts);
  }

  view(ctx: OpContext, key: string, parent: string, opts?: SnapshotOptions): Promise<Mount[]> {
    return this.#create(ctx, "view", key, parent, opts);
  }

  async commit(ctx: OpContext, name: string, key: string, opts?: SnapshotOptions): Promise<void> {
    const active = this.#storage.read((tx) => tx.checkCommit(key, name, opts));
    // Measured before the transaction: a walk cannot run inside one.
    const usage = await diskUsage(this.#layout.upper(active.id), ctx.signal);
    await this.#storage.write((tx) => {
      if (tx.get(key).id !== active.id) throw aborted(`snapshot ${JSON.stringify(key)} was replaced during commit`);
      tx.commit(key, name, usage, opts);
    });
  }

  async remove(_ctx: OpContext, key: string): Promise<void> {
    // Metadata first: once it commits, the snapshot is gone for every caller, and a crash from
    // here on leaves only a directory with no metadata, which cleanup deletes.
    const removed = await this.#storage.write((tx) => tx.remove(key));
    const doomed = this.#layout.removal(removed.id);
    try {
      await rename(this.#layout.dir(removed.id), doomed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      this.#log.warn("overlay: could not move a removed snapshot aside; cleanup will delete it", { id: removed.id, error: err });
      return;
    }
    const deletion = this.#delete(doomed);
    if (this.#opts.syncRemove) return deletion;
    this.#deleting.add(deletion);
    void deletion.finally(() => this.#deleting.delete(deletion));
  }

  async *walk(_ctx: OpContext, filters: readonly string[]): AsyncIterable<SnapshotInfo> {
    // One read for the whole walk: a consistent list even if the consumer is slow.
    const all = this.#storage.read((tx) => tx.walk(filters));
    for (const s of all) yield this.#present(s);
  }

  async cleanup(_ctx: OpContext): Promise<void> {
    await this.#settleDeletions();
    // The listing comes before the metadata read: a snapshot created in between was still a
    // directory being built (skipped) when listed, so no live snapshot is taken for an orphan.
    const names = await readdir(this.#layout.snapshots);
    const live = this.#storage.read((tx) => tx.byId());
    for (const name of names) {
      const path = this.#layout.dir(name);
      if (this.#building.has(path)) continue;
      if (/^[1-9][0-9]*$/.test(name) && live.has(Number(name))) continue;
      await this.#delete(path);
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#settleDeletions().then(() => this.#storage.close());
    return this.#closing;
  }

  async #create(ctx: OpContext, kind: "active" | "view", key: string, parent: string, opts?: SnapshotOptions): Promise<Mount[]> {
    ctx.signal?.throwIfAborted();
    // Checked first so a refused call builds nothing; the transaction checks again.
    const [parentId] = this.#storage.read((tx) => tx.checkCreate(key, parent, opts));
    // Synchronous: three or four metadata calls of microseconds each, where promises would cost
    // a thread-pool round trip apiece on every container create.
    const temp = mkdtempSync(join(this.#layout.snapshots, TEMP_PREFIX));
    this.#building.add(temp);
    let placed: string | undefined;
    try {
      mkdirSync(join(temp, "fs"), { mode: 0o755 });
      if (kind === "active") mkdirSync(join(temp, "work"), { mode: 0o711 });
      if (parentId !== undefined) this.#inheritOwner(join(temp, "fs"), parentId);
      const chain = await this.#storage.write((tx) => {
        const created = tx.create(kind, key, parent, opts);
        placed = this.#layout.dir(created.id);
        this.#building.add(placed);
        placeNewSnapshot(temp, placed);
        return created;
      });
      return overlayMounts(this.#layout, chain, this.#overlayOptions());
    } catch (err) {
      // A commit that failed after the rename leaves the directory under an id with no
      // metadata: cleanup deletes it, and a create handed that id again moves it aside.
      await rm(temp, { recursive: true, force: true });
      throw err;
    } finally {
      this.#building.delete(temp);
      if (placed !== undefined) this.#building.delete(placed);
    }
  }

  /**
   * The upper directory is the merged root's directory, so it takes the owner of the parent's
   * root (an image built for a non-root user keeps its root owned by that user), as containerd does.
   */
  #inheritOwner(fs: string, parentId: number): void {
    const st = statSync(this.#layout.upper(parentId));
    if (st.uid !== 0 || st.gid !== 0) chownSync(fs, st.uid, st.gid);
  }

  #overlayOptions(): readonly string[] {
    return this.#opts.mountOptions ?? [];
  }

  #present(s: StoredSnapshot): SnapshotInfo {
    const info = toInfo(s);
    if (!this.#opts.upperdirLabel) return info;
    return { ...info, labels: { ...info.labels, [UPPERDIR_LABEL]: this.#layout.upper(s.id) } };
  }

  async #delete(path: string): Promise<void> {
    try {
      await rm(path, { recursive: true, force: true });
    } catch (err) {
      this.#log.warn("overlay: could not delete a snapshot directory; cleanup will retry", { path, error: err });
    }
  }

  async #settleDeletions(): Promise<void> {
    while (this.#deleting.size > 0) await Promise.allSettled([...this.#deleting]);
  }
}
