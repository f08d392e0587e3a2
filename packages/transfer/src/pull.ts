import {
  notFound,
  type ContentStore,
  type Descriptor,
  type Image,
  type ImageStore,
  type LeaseManager,
  type OpContext,
} from "@berth/core";
import { blobKind, childGcLabels, formatPlatform, hostPlatform, parseConfig, parseIndex, parseManifest, platformMatches, type Platform, type PlatformDescriptor } from "@berth/image-spec";
import { distributionSourceKey, withRepository, type ImageOrigin } from "./distribution-source.js";
import type { ImageSource, ProgressListener } from "./image-source.js";
import { withLease } from "./lease.js";
import { createLimiter } from "./limiter.js";
import { readSmallBlob } from "./read-blob.js";
import { saveImage } from "./save-image.js";
import { LiveBlob, LiveBudget } from "./live-blob.js";
import { storeBlob } from "./store-blob.js";
import { unpackLayers, UNCOMPRESSED_LABEL, type UnpackTarget } from "./unpack.js";

export interface PullStores {
  readonly content: ContentStore;
  readonly images: ImageStore;
  readonly leases: LeaseManager;
}

export interface PullOptions {
  /** Which manifests of an index to fetch: one platform (default: the host's) or all. */
  readonly platform?: Platform | "all" | undefined;
  /** Unpack the (host or chosen) platform's layers into this snapshotter as they arrive. */
  readonly unpack?: UnpackTarget | undefined;
  /** Blobs downloaded at once; containerd's default is 3. */
  readonly maxConcurrentDownloads?: number | undefined;
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly onProgress?: ProgressListener | undefined;
}

export interface PullResult {
  readonly image: Image;
  /** The platform manifests fetched. */
  readonly manifests: readonly Descriptor[];
  /** The top snapshot's chain ID when unpacked. */
  readonly chainId?: string | undefined;
}

/**
 * Pulls an image: index → manifests → config and layers, fetched concurrently into the content
 * store under a lease, each parent labelled with GC references to its children, layers
 * unpacked as they land, and the image record written last, so a reader never sees an image
 * whose content is incomplete.
 */
export async function pullImage(stores: PullStores, ctx: OpContext, source: ImageSource, opts: PullOptions = {}): Promise<PullResult> {
  const run = async (leased: OpContext): Promise<PullResult> => {
    const { name, descriptor: root } = await source.resolve(ctx.signal);
    const fetchLimited = createLimiter(opts.maxConcurrentDownloads ?? 3);
    const origin = source.origin;
    const commitLabels = origin ? { [distributionSourceKey(origin.registry)]: origin.repository } : undefined;
    const fetch = (desc: Descriptor, live?: LiveBlob) =>
      fetchLimited(async () => {
        const outcome = await storeBlob(stores.content, leased, source, desc, opts.onProgress, { labels: commitLabels, live });
        if (outcome === "exists" && origin) await recordOrigin(stores.content, leased, desc.digest, origin);
      });
    const pull = new PullRun(stores.content, leased, fetch, opts);
    const manifests = await pull.walk(root);
    const image = await saveImage(stores.images, ctx, { name, labels: { ...opts.labels }, target: root });
    return { image, manifests: manifests.map((m) => m.manifest), chainId: manifests.find((m) => m.chainId)?.chainId };
  };
  return withLease(stores.leases, ctx, run, "pull");
}

/**
 * Downloaded bytes a layer's feed holds for its unpack before giving up on it (it then reads
 * the rest from the content store once the blob is in), and all feeds of a pull together.
 * The feed of the layer being unpacked rarely holds more than a few chunks.
 */
const LIVE_BUFFER_BYTES = 16 * 1024 * 1024;
const LIVE_BUDGET_BYTES = 32 * 1024 * 1024;

interface FetchedManifest {
  readonly manifest: Descriptor;
  readonly chainId?: string | undefined;
}

class PullRun {
  private unpacked = false;
  constructor(
    private readonly content: ContentStore,
    private readonly ctx: OpContext,
    private readonly fetch: (desc: Descriptor, live?: LiveBlob) => Promise<void>,
    private readonly opts: PullOptions,
  ) {}

  /** Fetches `desc` and everything below it; returns the platform manifests reached. */
  async walk(desc: PlatformDescriptor): Promise<FetchedManifest[]> {
    await this.fetch(desc);
    const kind = blobKind(desc.mediaType);
    if (kind === "index") return this.walkIndex(desc);
    if (kind === "manifest") return [await this.walkManifest(desc)];
    throw notFound(`${desc.digest} is a ${desc.mediaType}, not an image index or manifest`);
  }

  private async walkIndex(desc: Descriptor): Promise<FetchedManifest[]> {
    const index = parseIndex(await readSmallBlob(this.content, this.ctx, desc), desc.digest);
    const chosen = this.choose(index.manifests, desc);
    await this.label(desc, chosen);
    const results = await Promise.all(chosen.map((m) => this.walk(m)));
    return results.flat();
  }

  private choose(manifests: readonly PlatformDescriptor[], index: Descriptor): PlatformDescriptor[] {
    const wanted = this.opts.platform ?? hostPlatform();
    // Nested indexes carry no platform of their own: follow them.
    if (wanted === "all") return [...manifests];
    const match = manifests.find((m) => m.platform === undefined ? blobKind(m.mediaType) === "index" : platformMatches(wanted, m.platform));
    if (match === undefined) {
      const have = manifests.map((m) => (m.platform ? formatPlatform(m.platform) : "?"));
      throw notFound(`no manifest in ${index.digest} for platform ${formatPlatform(wanted)} (has ${have.join(", ")})`);
    }
    return [match];
  }

  private async walkManifest(desc: PlatformDescriptor): Promise<FetchedManifest> {
    const manifest = parseManifest(await readSmallBlob(this.content, this.ctx, desc), desc.digest);
    await this.label(desc, [manifest.config, ...manifest.layers]);
    const unpack = this.opts.unpack;
    const forThisHost = desc.platform === undefined || this.opts.platform !== "all" || platformMatches(hostPlatform(), desc.platform);
    if (unpack === undefined || this.unpacked || !forThisHost) {
      await allFetched([manifest.config, ...manifest.layers].map((d) => this.fetch(d)));
      return { manifest: desc };
    }
    this.unpacked = true;
    // The config first: unpacking needs its diff IDs, and queued behind the layers it would
    // hold the first unpack back until most of the image is downloaded. Each layer's bytes
    // also feed its unpack as they arrive, within a small buffer (see LiveBlob).
    const configFetch = this.fetch(manifest.config);
    const budget = new LiveBudget(LIVE_BUDGET_BYTES);
    const feeds = manifest.layers.map((layer) => new LiveBlob(layer.size, LIVE_BUFFER_BYTES, budget));
    const layerFetches = manifest.layers.map((layer, i) => this.fetch(layer, feeds[i]));
    // Rejections are handled by whoever awaits first; keep Node from reporting them early.
    for (const f of [configFetch, ...layerFetches]) f.catch(() => undefined);
    let diffIds: readonly string[];
    try {
      await configFetch;
      diffIds = parseConfig(await readSmallBlob(this.content, this.ctx, manifest.config), manifest.config.digest).rootfs.diff_ids;
      if (diffIds.length !== manifest.layers.length) {
        throw notFound(`image config ${manifest.config.digest} lists ${diffIds.length} diff IDs for ${manifest.layers.length} layers`);
      }
    } catch (err) {
      for (const feed of feeds) feed.release();
      throw err;
    }
    const layers = manifest.layers.map((l, i) => {
      const fetched = layerFetches[i]!;
      const feed = feeds[i]!;
      const rest = (offset: number) => this.content.read(this.ctx, l.digest, { offset });
      return { desc: l, diffId: diffIds[i]!, fetched, live: () => feed.read(fetched, rest), release: () => feed.release() };
    });
    let chainId: string;
    try {
      chainId = await unpackLayers(unpack, this.ctx, layers, {
        onLayer: (layer, state) =>
          this.opts.onProgress?.({ digest: layer.digest, mediaType: layer.mediaType, offset: state === "unpacking" ? 0 : layer.size, total: layer.size, state }),
      });
    } catch (err) {
      // An unpack reading behind a download fails as soon as the download's bytes go bad: the
      // download's own error is the root cause.
      await allFetched(layerFetches);
      throw err;
    }
    await allFetched(layerFetches);
    await this.labelUnpacked(manifest.config, unpack.name, chainId, layers);
    return { manifest: desc, chainId };
  }

  /** GC references from a parent to its children: they live as long as it does. */
  private async label(parent: Descriptor, children: readonly Descriptor[]): Promise<void> {
    const labels = childGcLabels(children);
    await this.content.update(this.ctx, { digest: parent.digest, labels }, Object.keys(labels).map((k) => `labels.${k}`));
  }

  /** As containerd: the config holds the unpacked snapshot, each layer names its diff ID. */
  private async labelUnpacked(config: Descriptor, snapshotter: string, chainId: string, layers: readonly { desc: Descriptor; diffId: string }[]) {
    const key = `containerd.io/gc.ref.snapshot.${snapshotter}`;
    await this.content.update(this.ctx, { digest: config.digest, labels: { [key]: chainId } }, [`labels.${key}`]);
    for (const { desc, diffId } of layers) {
      await this.content.update(this.ctx, { digest: desc.digest, labels: { [UNCOMPRESSED_LABEL]: diffId } }, [`labels.${UNCOMPRESSED_LABEL}`]);
    }
  }
}

/**
 * Waits for every fetch to settle, then throws the first failure: a pull never returns while
 * one of its downloads still writes (its lease would go first).
 */
async function allFetched(fetches: readonly Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(fetches)).find((f) => f.status === "rejected");
  if (failed) throw failed.reason;
}

/** Adds the repository to a blob's distribution-source label (a blob may come from several). */
async function recordOrigin(content: ContentStore, ctx: OpContext, digest: string, origin: ImageOrigin): Promise<void> {
  const key = distributionSourceKey(origin.registry);
  const value = withRepository((await content.info(ctx, digest)).labels[key], origin.repository);
  if (value !== undefined) await content.update(ctx, { digest, labels: { [key]: value } }, [`labels.${key}`]);
}
