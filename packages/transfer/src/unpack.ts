import { randomBytes } from "node:crypto";
import {
  failedPrecondition,
  isAlreadyExists,
  isNotFound,
  type ApplyOptions,
  type Descriptor,
  type Differ,
  type OpContext,
  type Snapshotter,
} from "@berth/core";
import { chainIds } from "@berth/image-spec";

export const SNAPSHOT_REF_LABEL = "containerd.io/snapshot.ref";
export const UNCOMPRESSED_LABEL = "containerd.io/uncompressed";

export interface UnpackTarget {
  /** The snapshotter's name as clients know it ("overlayfs"): used in GC labels. */
  readonly name: string;
  readonly snapshotter: Snapshotter;
  readonly differ: Differ;
}

export interface LayerToUnpack {
  readonly desc: Descriptor;
  /** The uncompressed digest the image config lists for this layer. */
  readonly diffId: string;
  /** Settles when the layer's blob is in the content store (at once for a local image). */
  readonly fetched: Promise<void>;
  /**
   * The blob's bytes while they download, for a differ that can apply from them (see
   * core's ApplyOptions.source): the apply then starts before `fetched` settles.
   */
  readonly live?: (() => AsyncIterable<Uint8Array>) | undefined;
  /** Called once the layer needs no bytes from `live` (skipped, applied or failed). */
  readonly release?: (() => void) | undefined;
}

export interface UnpackEvents {
  /** Called per layer as it starts unpacking, and with what happened to it. */
  readonly onLayer?: (layer: Descriptor, state: "unpacking" | "unpacked" | "exists") => void;
}

/**
 * Unpacks layers bottom-up into snapshots named by chain ID. Layer i is applied as soon as
 * layer i-1 is committed: from its live download when it has one and the differ can read it,
 * else once its blob is fetched. Its snapshot is committed only after the blob is (so after
 * the blob's digest was verified). A chain ID that already exists is skipped. Returns the top
 * chain ID.
 */
export async function unpackLayers(
  target: UnpackTarget,
  ctx: OpContext,
  layers: readonly LayerToUnpack[],
  events: UnpackEvents = {},
): Promise<string> {
  const chain = chainIds(layers.map((l) => l.diffId));
  const streamed = target.differ.readsApplySource === true;
  try {
    for (const [i, layer] of layers.entries()) {
      const chainId = chain[i]!;
      const parent = i === 0 ? "" : chain[i - 1]!;
      ctx.signal?.throwIfAborted();
      if (await snapshotExists(target.snapshotter, ctx, chainId)) {
        layer.release?.();
        events.onLayer?.(layer.desc, "exists");
        continue;
      }
      const live = streamed ? layer.live : undefined;
      if (live === undefined) {
        layer.release?.();
        await layer.fetched;
      }
      events.onLayer?.(layer.desc, "unpacking");
      await applyLayer(target, ctx, layer, chainId, parent, live?.());
      layer.release?.();
      events.onLayer?.(layer.desc, "unpacked");
    }
  } finally {
    for (const layer of layers) layer.release?.();
  }
  return chain.at(-1) ?? "";
}

async function snapshotExists(sn: Snapshotter, ctx: OpContext, key: string): Promise<boolean> {
  try {
    await sn.stat(ctx, key);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

async function applyLayer(
  target: UnpackTarget,
  ctx: OpContext,
  layer: LayerToUnpack,
  chainId: string,
  parent: string,
  source: AsyncIterable<Uint8Array> | undefined,
): Promise<void> {
  const { snapshotter, differ } = target;
  // A unique key per attempt: a crashed or concurrent unpack of the same chain cannot collide.
  const key = `extract-${randomBytes(6).toString("hex")}-${chainId}`;
  const labels = { [SNAPSHOT_REF_LABEL]: chainId };
  const mounts = await snapshotter.prepare(ctx, key, parent, { labels });
  try {
    // The differ verifies the uncompressed stream against the diff ID as it applies it.
    const desc = { ...layer.desc, annotations: { ...layer.desc.annotations, [UNCOMPRESSED_LABEL]: layer.diffId } };
    const opts: ApplyOptions = { source };
    const applied = await differ.apply(ctx, desc, mounts, opts);
    if (applied.digest !== layer.diffId) {
      throw failedPrecondition(`layer ${layer.desc.digest}: uncompressed digest ${applied.digest} does not match the image config's diff ID ${layer.diffId}`);
    }
    // Applied from the download: the blob must be stored and verified before the snapshot counts.
    await layer.fetched;
    await snapshotter.commit(ctx, chainId, key, { labels });
  } catch (err) {
    await snapshotter.remove(ctx, key).catch(() => undefined);
    // Another unpack committed the same chain first: its snapshot is as good as ours.
    if (isAlreadyExists(err) && (await snapshotExists(snapshotter, ctx, chainId))) return;
    throw err;
  }
}
