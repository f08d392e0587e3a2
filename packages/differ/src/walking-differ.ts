import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  BerthError,
  classOf,
  failedPrecondition,
  isBerthError,
  notFound,
  unknown,
  type ApplyOptions,
  type ContentStore,
  type Descriptor,
  type DiffOptions,
  type Differ,
  type Mount,
  type OpContext,
} from "@berth/core";
import { withMounts } from "@berth/mount";
import { applyTarStream, type AppliedTar } from "./apply/apply-tar-stream.js";
import type { LayerTarget } from "./apply/layer-applier.js";
import { TreeRoot, doubleWalk, overlayUpperWalk, type Change } from "./compare/changes.js";
import { changesToTar } from "./compare/change-tar.js";
import { writeLayer } from "./compare/write-layer.js";
import {
  LABEL_UNCOMPRESSED,
  MEDIA_TYPE_LAYER,
  MEDIA_TYPE_LAYER_GZIP,
  compressionForDiff,
  compressionOfLayer,
  type Compression,
} from "./media-types.js";
import { directApplyTarget, overlayDirs, planMounts, readOnly, type MountPlan } from "./mount-plan.js";

export interface WalkingDifferOptions {
  /** Where layers are read from and written to (metadata's namespaced content store). */
  readonly content: ContentStore;
  /** gzip level for Compare: 1 fastest … 9 smallest; 6 is containerd's (Go's default). */
  readonly gzipLevel?: number;
}

/**
 * Berth's differ (containerd's "walking" differ plus its file-system applier). Apply writes
 * straight into an overlay upper dir or a bind mount's source, mounting only what it cannot
 * reach otherwise; Compare reads an overlay upper dir as the change list when it can and walks
 * both trees when it cannot.
 */
export function createWalkingDiffer(opts: WalkingDifferOptions): Differ {
  const { content } = opts;
  const gzipLevel = opts.gzipLevel ?? 6;
  return {
    readsApplySource: true,
    apply: (ctx, desc, mounts, applyOpts) => applyLayer(ctx, content, desc, mounts, applyOpts),
    compare: (ctx, lower, upper, diffOpts) => compareMounts(ctx, content, lower, upper, gzipLevel, diffOpts),
  };
}

async function applyLayer(
  ctx: OpContext,
  content: ContentStore,
  desc: Descriptor,
  mounts: readonly Mount[],
  opts: ApplyOptions | undefined,
): Promise<Descriptor> {
  const what = `apply layer ${desc.digest}`;
  try {
    const compression = compressionOfLayer(desc.mediaType);
    const source = opts?.source;
    const expected = await expectedDiffId(ctx, content, desc, compression, source !== undefined);
    const direct = directApplyTarget(planMounts(mounts));
    const run = (target: LayerTarget) => applyTarStream(source ?? content.read(ctx, desc.digest), compression, target, ctx.signal);
    let applied: AppliedTar;
    if (direct) {
      const whiteouts = direct.lowers ? "overlay" : "remove";
      applied = await run({ root: direct.root, whiteouts, lowers: direct.lowers });
      if (opts?.syncFs) await syncFs(direct.root);
    } else {
      applied = await withMounts(
        mounts,
        async (root) => {
          const result = await run({ root, whiteouts: "remove" });
          if (opts?.syncFs) await syncFs(root);
          return result;
        },
        ctx.signal ? { signal: ctx.signal } : {},
      );
    }
    if (expected !== undefined && applied.digest !== expected) {
      throw failedPrecondition(`uncompressed content has digest ${applied.digest}, expected ${expected} (wrong diff ID or corrupt layer)`);
    }
    return { mediaType: MEDIA_TYPE_LAYER, digest: applied.digest, size: applied.size };
  } catch (err) {
    throw withContext(what, err, ctx.signal);
  }
}

/**
 * What the uncompressed tar must hash to, where known: the blob's own digest for an
 * uncompressed layer, else the containerd.io/uncompressed annotation or content label.
 */
async function expectedDiffId(
  ctx: OpContext,
  content: ContentStore,
  desc: Descriptor,
  c: Compression,
  streamed: boolean,
): Promise<string | undefined> {
  const annotated = c === "none" ? desc.digest : desc.annotations?.[LABEL_UNCOMPRESSED];
  // A streamed layer may not be in the store yet: its caller vouches for the blob.
  if (streamed && annotated !== undefined) return annotated;
  const info = await content.info(ctx, desc.digest).catch((err: unknown) => {
    if (streamed && classOf(err) === "NotFound") return undefined;
    throw classOf(err) === "NotFound" ? notFound(`layer ${desc.digest} is not in the content store`, err) : err;
  });
  return annotated ?? info?.labels[LABEL_UNCOMPRESSED];
}

async function compareMounts(
  ctx: OpContext,
  content: ContentStore,
  lower: readonly Mount[],
  upper: readonly Mount[],
  gzipLevel: number,
  opts: DiffOptions | undefined,
): Promise<Descriptor> {
  try {
    const mediaType = opts?.mediaType ?? MEDIA_TYPE_LAYER_GZIP;
    const compression = compressionForDiff(mediaType);
    const write = (changes: Iterable<Change>, upperRoot: TreeRoot) =>
      writeLayer(ctx, content, changesToTar(changes, upperRoot), { compression, gzipLevel, ref: opts?.ref, labels: opts?.labels });
    const signal = ctx.signal ? { signal: ctx.signal } : {};
    const lowerPlan = planMounts(lower);
    const upperPlan = planMounts(upper);

    let info;
    if (upperPlan.kind === "overlay" && !upperPlan.dirs.indirect && sameLowers(lowerPlan, upperPlan.dirs.lowers)) {
      const root = new TreeRoot(upperPlan.dirs.upper);
      info = await write(overlayUpperWalk(root), root);
    } else {
      info = await readable(lowerPlan, lower, signal, (lowerRoot) =>
        readable(planMounts(readOnly(upper)), readOnly(upper), signal, (upperRoot) => {
          if (!upperRoot) throw failedPrecondition("the upper mounts are empty");
          return write(doubleWalk(lowerRoot, upperRoot), upperRoot);
        }),
      );
    }
    return { mediaType, digest: info.digest, size: info.size };
  } catch (err) {
    throw withContext("compare", err, ctx.signal);
  }
}

/** Runs `fn` on a tree reachable without mounting (bind source, nothing), or mounts it. */
async function readable<T>(
  plan: MountPlan,
  mounts: readonly Mount[],
  signal: { signal?: AbortSignal },
  fn: (root: TreeRoot | undefined) => Promise<T>,
): Promise<T> {
  if (plan.kind === "empty") return fn(undefined);
  if (plan.kind === "bind") return fn(new TreeRoot(plan.dir));
  return withMounts(mounts, (root) => fn(new TreeRoot(root)), signal);
}

/** True when `lower` shows exactly the overlay lowers `lowers` (so the upper dir is the diff). */
function sameLowers(lower: MountPlan, lowers: readonly string[]): boolean {
  switch (lower.kind) {
    case "empty":
      return lowers.length === 0;
    case "bind":
      return lowers.length === 1 && samePath(lower.dir, lowers[0]!);
    case "mount": {
      const [only] = lower.mounts;
      if (lower.mounts.length !== 1 || !only || only.type !== "overlay") return false;
      const dirs = overlayDirs(only.options);
      return dirs.upper === undefined && dirs.lowers.length === lowers.length && dirs.lowers.every((d, i) => samePath(d, lowers[i]!));
    }
    case "overlay":
      return false;
  }
}

const samePath = (a: string, b: string) => a.replace(/\/+$/, "") === b.replace(/\/+$/, "");

/** syncfs(2) on the filesystem holding `dir`: coreutils' `sync -f` is the one way from Node. */
async function syncFs(dir: string): Promise<void> {
  await promisify(execFile)("sync", ["-f", dir]);
}

/** Prefixes the message, keeping the error class (Canceled once the caller aborted, else Unknown for plain errors). */
function withContext(what: string, err: unknown, signal: AbortSignal | undefined): BerthError {
  const message = `${what}: ${err instanceof Error ? err.message : String(err)}`;
  if (isBerthError(err)) return new BerthError(err.errClass, message, { cause: err });
  if (signal?.aborted) return new BerthError("Canceled", message, { cause: err });
  return unknown(message, err);
}
