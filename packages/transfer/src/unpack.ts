import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import {
  failedPrecondition,
  isAlreadyExists,
  isNotFound,
  type ApplyOptions,
  type Descriptor,
  type Differ,
  type Mount,
  type OpContext,
  type Snapshotter,
} from "@berth/core";
import { chainIds } from "@berth/image-spec";
import { createLimiter } from "./limiter.js";

export const SNAPSHOT_REF_LABEL = "containerd.io/snapshot.ref";
export const UNCOMPRESSED_LABEL = "containerd.io/uncompressed";

export interface UnpackTarget {
  /** The snapshotter's name as clients know it ("overlayfs"): used in GC labels. */
  readonly name: string;
  readonly snapshotter: Snapshotter;
  readonly differ: Differ;
  /**
   * The snapshotter's plugin lists core's SNAPSHOT_REBASE_CAPABILITY: layers are then applied
   * side by side, each into a snapshot prepared without a parent, and chained as they commit.
   */
  readonly rebase?: boolean | undefined;
  /** Layers applied at once when rebasing; default the CPUs available. */
  readonly concurrency?: number | undefined;
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
 * Unpacks layers bottom-up into snapshots named by chain ID and returns the top chain ID.
 * Layers whose chain ID already exists are skipped. A layer is applied from its live download
 * when it has one and the differ can read it, else once its blob is fetched; its snapshot is
 * committed only after the blob is (so after the blob's digest was verified), and only after
 * the layer below it.
 *
 * With a rebasing snapshotter, up to `concurrency` layers apply at once (decompression and
 * file creation of one layer never wait for the one below); otherwise layer i starts once
 * layer i-1 is committed.
 */
export async function unpackLayers(
  target: UnpackTarget,
  ctx: OpContext,
  layers: readonly LayerToUnpack[],
  events: UnpackEvents = {},
): Promise<string> {
  const chain = chainIds(layers.map((l) => l.diffId));
  try {
    const first = await firstMissing(target.snapshotter, ctx, chain);
    for (const layer of layers.slice(0, first)) {
      layer.release?.();
      events.onLayer?.(layer.desc, "exists");
    }
    const todo = layers.slice(first).map((layer, n) => ({ layer, index: first + n }));
    if (target.rebase === true && todo.length > 1) await unpackSideBySide(target, ctx, chain, todo, events);
    else await unpackInOrder(target, ctx, chain, todo, events);
  } finally {
    for (const layer of layers) layer.release?.();
  }
  return chain.at(-1) ?? "";
}

interface PendingLayer {
  readonly layer: LayerToUnpack;
  /** Its position in the image, for its chain ID and parent. */
  readonly index: number;
}

/** The index of the lowest layer whose snapshot does not exist yet (a committed snapshot's parents all exist). */
async function firstMissing(sn: Snapshotter, ctx: OpContext, chain: readonly string[]): Promise<number> {
  for (let i = chain.length - 1; i >= 0; i--) {
    if (await snapshotExists(sn, ctx, chain[i]!)) return i + 1;
  }
  return 0;
}

async function unpackInOrder(
  target: UnpackTarget,
  ctx: OpContext,
  chain: readonly string[],
  todo: readonly PendingLayer[],
  events: UnpackEvents,
): Promise<void> {
  for (const { layer, index } of todo) {
    ctx.signal?.throwIfAborted();
    events.onLayer?.(layer.desc, "unpacking");
    const applied = await applyLayer(target, ctx, layer, chain[index]!, parentOf(chain, index));
    await commitLayer(target, ctx, layer, applied, undefined);
    events.onLayer?.(layer.desc, "unpacked");
  }
}

/**
 * Applies up to `concurrency` layers at once, claiming slots bottom-up so the layer the next
 * commit waits for is never queued behind those above it, and commits them in order. A layer
 * whose parent is already committed when it starts is prepared on it; the others are prepared
 * without one and rebased onto it at commit. The first failure stops the layers still applying
 * and removes every snapshot not committed.
 */
async function unpackSideBySide(
  target: UnpackTarget,
  ctx: OpContext,
  chain: readonly string[],
  todo: readonly PendingLayer[],
  events: UnpackEvents,
): Promise<void> {
  const stop = new AbortController();
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, stop.signal]) : stop.signal;
  const layerCtx: OpContext = { ...ctx, signal };
  const slots = createLimiter(Math.max(1, target.concurrency ?? availableParallelism()));
  let committedUpTo = todo[0]!.index - 1;

  const applies = todo.map(({ layer, index }) =>
    slots(async () => {
      signal.throwIfAborted();
      events.onLayer?.(layer.desc, "unpacking");
      const parent = parentOf(chain, index);
      const onParent = index - 1 <= committedUpTo;
      const applied = await applyLayer(target, layerCtx, layer, chain[index]!, onParent ? parent : "", { asLayer: !onParent });
      return { applied, rebaseOnto: onParent ? undefined : parent };
    }),
  );
  // Each is awaited below in order; a later one may fail first.
  for (const a of applies) a.catch(() => undefined);

  let failure: unknown;
  for (const [n, { layer, index }] of todo.entries()) {
    try {
      if (failure !== undefined) throw failure;
      const { applied, rebaseOnto } = await applies[n]!;
      await commitLayer(target, layerCtx, layer, applied, rebaseOnto);
      committedUpTo = index;
      events.onLayer?.(layer.desc, "unpacked");
    } catch (err) {
      failure ??= err;
      stop.abort(err);
      const settled = await applies[n]!.then(
        (a) => a.applied,
        () => undefined,
      );
      if (settled !== undefined) await target.snapshotter.remove(ctx, settled.key).catch(() => undefined);
    }
  }
  if (failure !== undefined) throw failure;
}

function parentOf(chain: readonly string[], index: number): string {
  return index === 0 ? "" : chain[index - 1]!;
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

/** An applied layer's active snapshot, awaiting its commit. */
interface AppliedLayer {
  readonly key: string;
  readonly chainId: string;
}

/**
 * Prepares a snapshot for the layer and applies it (a failure removes the snapshot). `asLayer`:
 * the snapshot has no parent yet but will be stacked on one, so whiteouts must stay in the
 * layer as overlay markers.
 */
async function applyLayer(
  target: UnpackTarget,
  ctx: OpContext,
  layer: LayerToUnpack,
  chainId: string,
  parent: string,
  opts: { asLayer?: boolean } = {},
): Promise<AppliedLayer> {
  const { snapshotter, differ } = target;
  const live = differ.readsApplySource === true ? layer.live : undefined;
  if (live === undefined) {
    layer.release?.();
    await layer.fetched;
  }
  // A unique key per attempt: a crashed or concurrent unpack of the same chain cannot collide.
  const key = `extract-${randomBytes(6).toString("hex")}-${chainId}`;
  const mounts = await snapshotter.prepare(ctx, key, parent, { labels: { [SNAPSHOT_REF_LABEL]: chainId } });
  try {
    // The differ verifies the uncompressed stream against the diff ID as it applies it.
    const desc = { ...layer.desc, annotations: { ...layer.desc.annotations, [UNCOMPRESSED_LABEL]: layer.diffId } };
    const applyOpts: ApplyOptions = { source: live?.() };
    const applied = await differ.apply(ctx, desc, opts.asLayer ? asOverlayLayer(mounts) : mounts, applyOpts);
    layer.release?.();
    if (applied.digest !== layer.diffId) {
      throw failedPrecondition(`layer ${layer.desc.digest}: uncompressed digest ${applied.digest} does not match the image config's diff ID ${layer.diffId}`);
    }
    return { key, chainId };
  } catch (err) {
    await snapshotter.remove(ctx, key).catch(() => undefined);
    throw err;
  }
}

/** Commits an applied layer once its blob is stored (verified), naming its parent when it was prepared without. */
async function commitLayer(
  target: UnpackTarget,
  ctx: OpContext,
  layer: LayerToUnpack,
  applied: AppliedLayer,
  rebaseOnto: string | undefined,
): Promise<void> {
  const { snapshotter } = target;
  try {
    await layer.fetched;
    await snapshotter.commit(ctx, applied.chainId, applied.key, { labels: { [SNAPSHOT_REF_LABEL]: applied.chainId }, parent: rebaseOnto });
  } catch (err) {
    await snapshotter.remove(ctx, applied.key).catch(() => undefined);
    // Another unpack committed the same chain first: its snapshot is as good as ours.
    if (isAlreadyExists(err) && (await snapshotExists(snapshotter, ctx, applied.chainId))) return;
    throw err;
  }
}

/**
 * A parentless snapshot's bind mount as an overlay upper dir with no lowers, so the differ
 * writes whiteouts as overlay markers rather than deleting (there is nothing below to delete
 * yet). containerd's unpacker hands its applier the same shape in parallel mode.
 */
function asOverlayLayer(mounts: readonly Mount[]): readonly Mount[] {
  const [only] = mounts;
  if (mounts.length !== 1 || only === undefined || only.type !== "bind") return mounts;
  const options = only.options.filter((o) => o !== "rbind" && o !== "bind");
  return [{ type: "overlay", source: "overlay", options: [...options, `upperdir=${only.source}`] }];
}
