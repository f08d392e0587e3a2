import { lstat, mkdir, readdir, rename, rm, chmod } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import {
  aborted,
  failedPrecondition,
  invalidArgument,
  silentLogger,
  skipPlugin,
  type Logger,
  type Mount,
  type OpContext,
  type SnapshotInfo,
  type SnapshotOptions,
  type SnapshotUsage,
  type Snapshotter,
} from "@berth/core";
import {
  openSnapshotStorage,
  placeNewSnapshot,
  toInfo,
  type SnapshotChain,
  type SnapshotStorage,
} from "@berth/snapshot-storage";
import { createSubvolume, deleteSubvolume, setReadOnly, snapshotSubvolume, SUBVOLUME_ROOT_INODE } from "./btrfs-cli.js";
import { BtrfsLayout, TEMP_PREFIX } from "./layout.js";
import { layerUsage } from "./layer-usage.js";
import { pathInFilesystem, type MountInfo } from "./mountinfo.js";
import { probeBtrfs } from "./probe-btrfs.js";

export interface BtrfsSnapshotterOptions {
  readonly log?: Logger;
}

export interface BtrfsSnapshotter extends Snapshotter {
  readonly root: string;
  /** The block device mounts name (from /proc/self/mountinfo). */
  readonly device: string;
}

/**
 * containerd's btrfs snapshotter: each snapshot a subvolume under `root`, views and committed
 * layers read-only snapshots, metadata in @berth/snapshot-storage. Throws skipPlugin's error
 * (class FailedPrecondition) when `root` is not on btrfs.
 */
export async function createBtrfsSnapshotter(root: string, opts: BtrfsSnapshotterOptions = {}): Promise<BtrfsSnapshotter> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  const probe = await probeBtrfs(root);
  if (!probe.btrfs) throw skipPlugin(probe.reason);
  const layout = new BtrfsLayout(probe.realRoot);
  // The snapshots hold other people's root filesystems (setuid binaries included).
  await chmod(probe.realRoot, 0o700);
  await mkdir(layout.snapshots, { recursive: true, mode: 0o700 });
  const subvolPath = pathInFilesystem(probe.mount, layout.snapshots);
  if (subvolPath.includes(",")) throw failedPrecondition(`btrfs root ${root}: its path ${subvolPath} contains a comma, which mount options cannot carry`);
  const storage = await openSnapshotStorage(layout.metadata);
  return new Btrfs(layout, storage, probe.mount, opts.log ?? silentLogger);
}

class Btrfs implements BtrfsSnapshotter {
  readonly #layout: BtrfsLayout;
  readonly #storage: SnapshotStorage;
  readonly #mount: MountInfo;
  readonly #log: Logger;
  /** Subvolumes being built, and ones renamed into place whose metadata has not committed yet: cleanup must not take them for orphans. */
  readonly #building = new Set<string>();
  #closing: Promise<void> | undefined;

  constructor(layout: BtrfsLayout, storage: SnapshotStorage, mount: MountInfo, log: Logger) {
    this.#layout = layout;
    this.#storage = storage;
    this.#mount = mount;
    this.#log = log;
  }

  get root(): string {
    return this.#layout.root;
  }

  get device(): string {
    return this.#mount.source;
  }

  async stat(_ctx: OpContext, key: string): Promise<SnapshotInfo> {
    return toInfo(this.#storage.read((tx) => tx.get(key)));
  }

  async update(_ctx: OpContext, info: Pick<SnapshotInfo, "name" | "labels">, fieldpaths: readonly string[]): Promise<SnapshotInfo> {
    return toInfo(await this.#storage.write((tx) => tx.update(info, fieldpaths)));
  }

  async usage(ctx: OpContext, key: string): Promise<SnapshotUsage> {
    const { snapshot, parentId } = this.#storage.read((tx) => {
      const s = tx.get(key);
      return { snapshot: s, parentId: s.parent === "" ? undefined : tx.get(s.parent).id };
    });
    // Committed layers were measured at commit; a view has no layer of its own.
    if (snapshot.kind !== "active") return snapshot.usage;
    return this.#activeUsage(snapshot.id, parentId, ctx.signal);
  }

  async mounts(_ctx: OpContext, key: string): Promise<Mount[]> {
    return this.#mounts(this.#storage.read((tx) => tx.chain(key)));
  }

  prepare(ctx: OpContext, key: string, parent: string, opts?: SnapshotOptions): Promise<Mount[]> {
    return this.#create(ctx, "active", key, parent, opts);
  }

  view(ctx: OpContext, key: string, parent: string, opts?: SnapshotOptions): Promise<Mount[]> {
    return this.#create(ctx, "view", key, parent, opts);
  }

  async commit(ctx: OpContext, name: string, key: string, opts?: SnapshotOptions): Promise<void> {
    const { active, parentId } = this.#storage.read((tx) => {
      const s = tx.checkCommit(key, name, opts);
      // A btrfs snapshot starts as a copy of its parent: one prepared without cannot take one later.
      if (s.parent !== tx.get(key).parent) {
        throw invalidArgument(`btrfs cannot rebase snapshot ${JSON.stringify(key)} onto ${JSON.stringify(s.parent)} at commit`);
      }
      return { active: s, parentId: s.parent === "" ? undefined : tx.get(s.parent).id };
    });
    const usage = await this.#activeUsage(active.id, parentId, ctx.signal);
    const source = this.#layout.subvolume("active", active.id);
    await this.#withTemp(async (temp, place) => {
      await snapshotSubvolume(source, temp, true);
      await this.#storage.write((tx) => {
        if (tx.get(key).id !== active.id) throw aborted(`snapshot ${JSON.stringify(key)} was replaced during commit`);
        tx.commit(key, name, usage, opts);
        place(this.#layout.subvolume("committed", active.id));
      });
    });
    // The writable subvolume is no longer anyone's; a crash before this leaves it to cleanup.
    await this.#deleteEntry(source);
  }

  async remove(_ctx: OpContext, key: string): Promise<void> {
    // Metadata first: a crash from here on leaves only a subvolume no snapshot names, for cleanup.
    const removed = await this.#storage.write((tx) => tx.remove(key));
    const doomed = this.#layout.removal(removed.id);
    try {
      await rename(this.#layout.subvolume(removed.kind, removed.id), doomed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
        this.#log.warn("btrfs: could not move a removed snapshot aside; cleanup will delete it", { id: removed.id, error: err });
      }
      return;
    }
    await this.#deleteEntry(doomed);
  }

  async *walk(_ctx: OpContext, filters: readonly string[]): AsyncIterable<SnapshotInfo> {
    const all = this.#storage.read((tx) => tx.walk(filters));
    for (const s of all) yield toInfo(s);
  }

  async cleanup(_ctx: OpContext): Promise<void> {
    // Listing before reading metadata: whatever a concurrent create renames into place after
    // the listing was listed under its temporary name, which #building protects.
    const names = await readdir(this.#layout.snapshots);
    const live = new Set([...this.#storage.read((tx) => tx.byId()).values()].map((s) => BtrfsLayout.entryName(s.kind, s.id)));
    for (const name of names) {
      const path = this.#layout.entry(name);
      if (live.has(name) || this.#building.has(path)) continue;
      await this.#deleteEntry(path);
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#storage.close();
    return this.#closing;
  }

  async #create(ctx: OpContext, kind: "active" | "view", key: string, parent: string, opts?: SnapshotOptions): Promise<Mount[]> {
    ctx.signal?.throwIfAborted();
    // Checked first so a refused call costs no subvolume; the transaction checks again.
    const [parentId] = this.#storage.read((tx) => tx.checkCreate(key, parent, opts));
    const chain = await this.#withTemp(async (temp, place) => {
      if (parentId === undefined) {
        await createSubvolume(temp);
        if (kind === "view") await setReadOnly(temp);
      } else {
        await snapshotSubvolume(this.#layout.subvolume("committed", parentId), temp, kind === "view");
      }
      return this.#storage.write((tx) => {
        const created = tx.create(kind, key, parent, opts);
        place(this.#layout.subvolume(kind, created.id));
        return created;
      });
    });
    return this.#mounts(chain);
  }

  /**
   * Runs `fn` with a fresh temporary path in the snapshots directory, deleting whatever is left
   * there on failure. `place` renames it to its final path inside a write transaction; cleanup
   * leaves that path alone until `fn` is done, since readers see the metadata naming it only
   * once the write has committed.
   */
  async #withTemp<T>(fn: (temp: string, place: (target: string) => void) => Promise<T>): Promise<T> {
    const temp = this.#layout.entry(`${TEMP_PREFIX}${randomBytes(8).toString("hex")}`);
    const building = [temp];
    this.#building.add(temp);
    const place = (target: string) => {
      building.push(target);
      this.#building.add(target);
      placeNewSnapshot(temp, target);
    };
    try {
      return await fn(temp, place);
    } catch (err) {
      // A commit that failed after the rename leaves the subvolume under an id with no
      // metadata: cleanup deletes it, and a create handed that id again moves it aside.
      await this.#deleteEntry(temp);
      throw err;
    } finally {
      for (const path of building) this.#building.delete(path);
    }
  }

  /**
   * btrfs mounts of the subvolume by path (subvol=), so what `ctr snapshots mounts` prints can
   * be run as is: `mount -t btrfs -o subvol=/…/snapshots/active-7 /dev/… /mnt`.
   */
  #mounts(chain: SnapshotChain): Mount[] {
    const subvol = pathInFilesystem(this.#mount, this.#layout.subvolume(chain.kind, chain.id));
    const options = [`subvol=${subvol}`];
    if (chain.kind !== "active") options.push("ro");
    return [{ type: "btrfs", source: this.#mount.source, options }];
  }

  #activeUsage(id: number, parentId: number | undefined, signal?: AbortSignal): Promise<SnapshotUsage> {
    const parent = parentId === undefined ? undefined : this.#layout.subvolume("committed", parentId);
    return layerUsage(this.#layout.subvolume("active", id), parent, signal);
  }

  /** Deletes a subvolume (or a plain directory some crash left); failures are logged for the next cleanup. */
  async #deleteEntry(path: string): Promise<void> {
    try {
      const st = await lstat(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return undefined;
        throw err;
      });
      if (!st) return;
      if (st.isDirectory() && st.ino === SUBVOLUME_ROOT_INODE) await deleteSubvolume(path);
      else await rm(path, { recursive: true, force: true });
    } catch (err) {
      this.#log.warn("btrfs: could not delete; cleanup will retry", { path, error: err });
    }
  }
}
