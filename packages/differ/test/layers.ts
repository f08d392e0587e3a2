import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { ContentStore, Descriptor, Differ, Mount } from "@berth/core";
import { createWalkingDiffer, MEDIA_TYPE_LAYER_GZIP } from "../src/index.js";
import { ctx, newContentStore, storeBlob } from "./content.js";
import { gzipTar, type EntrySpec } from "./tar-builder.js";
import { tempDir } from "./temp.js";

export interface Bench {
  readonly store: ContentStore;
  readonly differ: Differ;
  /** Stores a gzip layer of `entries` and applies it to `mounts`. */
  apply(mounts: readonly Mount[], entries: readonly EntrySpec[]): Promise<Descriptor>;
}

export async function newBench(): Promise<Bench> {
  const store = await newContentStore();
  const differ = createWalkingDiffer({ content: store });
  return {
    store,
    differ,
    apply: async (mounts, entries) => differ.apply(ctx, await storeBlob(store, gzipTar(entries), MEDIA_TYPE_LAYER_GZIP), mounts),
  };
}

/** A fresh directory to apply into, and its bind mount. */
export async function bindRoot(): Promise<{ root: string; mounts: Mount[] }> {
  const root = join(await tempDir(), "root");
  mkdirSync(root);
  return { root, mounts: [{ type: "bind", source: root, options: ["rbind", "rw"] }] };
}

/** An overlay stack laid out as a snapshotter does: layer dirs made with `layer()`, the newest on top. */
export async function overlayStack(): Promise<{ base: string; layer(): { dir: string; mounts: Mount[] } }> {
  const base = await tempDir();
  const dirs: string[] = [];
  return {
    base,
    layer() {
      const dir = join(base, `l${dirs.length}`);
      const work = join(base, `w${dirs.length}`);
      mkdirSync(dir);
      mkdirSync(work);
      const lowers = [...dirs].reverse();
      dirs.push(dir);
      const mounts: Mount[] =
        lowers.length === 0
          ? [{ type: "bind", source: dir, options: ["rbind", "rw"] }]
          : [{ type: "overlay", source: "overlay", options: [`workdir=${work}`, `upperdir=${dir}`, `lowerdir=${lowers.join(":")}`] }];
      return { dir, mounts };
    },
  };
}
