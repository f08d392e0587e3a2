import type { ContentStore, Descriptor, OpContext } from "@berth/core";
import type { Pusher, PushBody } from "@berth/distribution";
import { blobKind } from "@berth/image-spec";
import { distributionSourceAnnotations } from "./distribution-source.js";
import type { BlobState, ProgressListener } from "./image-source.js";
import { readImageTree, type ImageNode, type PlatformChoice } from "./image-tree.js";
import { createLimiter } from "./limiter.js";
import { readSmallBlob } from "./read-blob.js";

export interface PushImageOptions {
  /** Which manifests of an index to push; default all (the index itself always goes whole). */
  readonly platforms?: PlatformChoice | undefined;
  /** Blobs uploaded at once; containerd's default is 3. */
  readonly maxConcurrentUploads?: number | undefined;
  /** Upload blobs in PATCH chunks of this many bytes instead of one PUT. */
  readonly chunkSize?: number | undefined;
  readonly onProgress?: ProgressListener | undefined;
}

/** What happened to each blob: uploaded, already in the repository, or mounted from another one. */
export type PushOutcome = "uploaded" | "exists" | "mounted";

export interface PushImageResult {
  readonly root: Descriptor;
  readonly blobs: ReadonlyMap<string, PushOutcome>;
}

/**
 * Pushes the image whose root (index or manifest) is `root` from the content store to the
 * pusher's repository: children before their parents, so a registry never sees a manifest
 * whose blobs it lacks. Blobs are checked for existence first and mounted from another
 * repository of the same registry when their distribution-source label names one; the root
 * goes last, by the pusher's tag, everything else by digest.
 */
export async function pushImage(content: ContentStore, ctx: OpContext, root: Descriptor, pusher: Pusher, opts: PushImageOptions = {}): Promise<PushImageResult> {
  const nodes = new Map((await readImageTree(content, ctx, root, opts.platforms ?? "all")).map((n) => [n.desc.digest, n]));
  const limited = createLimiter(opts.maxConcurrentUploads ?? 3);
  const outcomes = new Map<string, PushOutcome>();
  const started = new Map<string, Promise<void>>();

  const pushTree = (node: ImageNode, isRoot: boolean): Promise<void> => {
    let run = started.get(node.desc.digest);
    if (run === undefined) {
      run = (async () => {
        await Promise.all(node.children.map((child) => pushTree(nodes.get(child.digest)!, false)));
        const outcome = await limited(() => pushOne(content, ctx, pusher, node.desc, isRoot, opts));
        outcomes.set(node.desc.digest, outcome);
      })();
      started.set(node.desc.digest, run);
    }
    return run;
  };
  await pushTree(nodes.get(root.digest)!, true);
  return { root, blobs: outcomes };
}

async function pushOne(content: ContentStore, ctx: OpContext, pusher: Pusher, desc: Descriptor, isRoot: boolean, opts: PushImageOptions): Promise<PushOutcome> {
  const report = (offset: number, state: BlobState) =>
    opts.onProgress?.({ digest: desc.digest, mediaType: desc.mediaType, offset, total: desc.size, state });
  const kind = blobKind(desc.mediaType);
  const isManifest = kind === "index" || kind === "manifest";
  let body: PushBody;
  let target = desc;
  if (isManifest) {
    body = await readSmallBlob(content, ctx, desc);
  } else {
    // containerd's labels from the pull say which repositories of a registry hold this blob.
    const sources = distributionSourceAnnotations((await content.info(ctx, desc.digest)).labels);
    target = { ...desc, annotations: { ...desc.annotations, ...sources } };
    body = () => counted(content.read(ctx, desc.digest), (offset) => report(offset, "uploading"));
  }
  const result = await pusher.push(target, body, { signal: ctx.signal, tag: isRoot, chunkSize: isManifest ? undefined : opts.chunkSize });
  switch (result.outcome) {
    case "exists":
      report(desc.size, "exists");
      return "exists";
    case "mounted":
      report(desc.size, "mounted");
      return "mounted";
    case "uploaded":
      report(desc.size, "done");
      return "uploaded";
  }
}

/** Passes the bytes through, telling `progress` the offset reached. */
async function* counted(source: AsyncIterable<Uint8Array>, progress: (offset: number) => void): AsyncGenerator<Uint8Array> {
  let offset = 0;
  progress(0);
  for await (const chunk of source) {
    yield chunk;
    offset += chunk.byteLength;
    progress(offset);
  }
}
