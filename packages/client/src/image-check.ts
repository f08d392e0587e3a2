import { contentApi, imagesApi, snapshotsApi } from "@berth/api";
import { invalidArgument, isNotFound, type Descriptor } from "@berth/core";
import { blobKind, hostPlatform, parseConfig, parseIndex, parseManifest, platformMatches, topChainId, type ImageManifest, type Platform } from "@berth/image-spec";
import { readContentBlob } from "./content-blob.js";
import type { Service } from "./pull.js";
import type { CallOptions, ServiceClient } from "./service-client.js";

/** What `ctr images check` reports of one image. */
export interface ImageCheck {
  readonly name: string;
  readonly target: Descriptor;
  /** false when the index or the platform's manifest is itself missing: what else is needed is unknown. */
  readonly available: boolean;
  /** The config and layers of the platform's manifest (or just the target when unavailable). */
  readonly required: readonly Descriptor[];
  readonly present: readonly Descriptor[];
  readonly missing: readonly Descriptor[];
  /** Whether the snapshotter holds the committed snapshot of all its layers. */
  readonly unpacked: boolean;
}

export interface CheckOptions extends CallOptions {
  /** Default: the client's platform. */
  readonly platform?: Platform;
  /** Default: overlayfs. */
  readonly snapshotter?: string;
}

type Content = ServiceClient<typeof contentApi.Content>;

/**
 * Checks the images matching `filters` (all without any) as ctr does: is the content of the
 * platform's manifest all there, and is the image unpacked? Done from the client over the
 * Images, Content and Snapshots services, so it checks containerd the same way.
 */
export async function checkImages(service: Service, filters: readonly string[], opts: CheckOptions = {}): Promise<ImageCheck[]> {
  const { images } = await service(imagesApi.Images).list({ filters: [...filters] }, opts);
  const content = service(contentApi.Content);
  const snapshots = service(snapshotsApi.Snapshots);
  const platform = opts.platform ?? hostPlatform();
  const snapshotter = opts.snapshotter ?? "overlayfs";
  const checks: ImageCheck[] = [];
  for (const image of images) {
    if (!image.target) continue;
    const target: Descriptor = { mediaType: image.target.mediaType, digest: image.target.digest, size: Number(image.target.size) };
    const manifest = await platformManifest(content, target, platform, opts);
    if (manifest === undefined) {
      checks.push({ name: image.name, target, available: false, required: [target], present: [], missing: [target], unpacked: false });
      continue;
    }
    const required = [manifest.config, ...manifest.layers];
    const present: Descriptor[] = [];
    const missing: Descriptor[] = [];
    for (const desc of required) ((await exists(content, desc.digest, opts)) ? present : missing).push(desc);
    const unpacked = present.includes(manifest.config) && (await isUnpacked(content, snapshots, manifest.config, snapshotter, opts));
    checks.push({ name: image.name, target, available: true, required, present, missing, unpacked });
  }
  return checks;
}

/** The platform's manifest below `desc`, read from content; undefined when a blob on the way, or the platform, is missing. */
async function platformManifest(content: Content, desc: Descriptor, platform: Platform, opts: CallOptions, depth = 0): Promise<ImageManifest | undefined> {
  const kind = blobKind(desc.mediaType);
  if ((kind !== "index" && kind !== "manifest") || depth > 4) throw invalidArgument(`${desc.digest} is a ${desc.mediaType}, not an image index or manifest`);
  let bytes: Uint8Array;
  try {
    bytes = await readContentBlob(content, desc.digest, opts);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  if (kind === "manifest") return parseManifest(bytes, desc.digest);
  const match = parseIndex(bytes, desc.digest).manifests.find((m) => isManifestOrIndex(m.mediaType) && (!m.platform || platformMatches(platform, m.platform)));
  return match === undefined ? undefined : platformManifest(content, match, platform, opts, depth + 1);
}

function isManifestOrIndex(mediaType: string): boolean {
  const kind = blobKind(mediaType);
  return kind === "index" || kind === "manifest";
}

async function exists(content: Content, digest: string, opts: CallOptions): Promise<boolean> {
  try {
    await content.info({ digest }, opts);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** As containerd: the snapshot named by the chain ID of the config's diff IDs exists. */
async function isUnpacked(content: Content, snapshots: ServiceClient<typeof snapshotsApi.Snapshots>, config: Descriptor, snapshotter: string, opts: CallOptions): Promise<boolean> {
  const { rootfs } = parseConfig(await readContentBlob(content, config.digest, opts), config.digest);
  const chainId = topChainId(rootfs.diff_ids);
  if (chainId === undefined) return false;
  try {
    await snapshots.stat({ snapshotter, key: chainId }, opts);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
