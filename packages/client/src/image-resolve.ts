import { contentApi, imagesApi } from "@berth/api";
import { notFound, type Descriptor } from "@berth/core";
import { blobKind, formatPlatform, hostPlatform, parseConfig, parseIndex, parseManifest, platformMatches, topChainId, type ImageConfig, type Platform } from "@berth/image-spec";
import type { ImageConfig as RunConfig } from "@berth/oci";
import { readContentBlob } from "./content-blob.js";
import type { CallOptions, ServiceClient, ServiceFactory } from "./service-client.js";

/** An image record with what running it needs: its manifest for a platform, config and rootfs chain. */
export interface ResolvedImage {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly target: Descriptor;
  readonly manifest: Descriptor;
  readonly config: ImageConfig;
  /** The image config's `config` section, as @berth/oci's withImageConfig reads it. */
  readonly runConfig: RunConfig;
  readonly diffIds: readonly string[];
  /** The chain ID of the top layer: the name of the committed snapshot holding the whole rootfs. */
  readonly chainId: string;
}

export interface ResolveImageOptions extends CallOptions {
  /** The platform to pick from an index; the host's by default. */
  readonly platform?: Platform | undefined;
}

type Content = ServiceClient<typeof contentApi.Content>;

/** Looks up `name` in the image store and reads its manifest and config from content. */
export async function resolveImage(service: ServiceFactory, name: string, opts: ResolveImageOptions = {}): Promise<ResolvedImage> {
  const content = service(contentApi.Content);
  const { image } = await service(imagesApi.Images).get({ name }, opts);
  if (!image?.target) throw notFound(`image "${name}": no target`);
  const target: Descriptor = { mediaType: image.target.mediaType, digest: image.target.digest, size: Number(image.target.size) };
  const manifest = await manifestFor(content, target, opts.platform ?? hostPlatform(), opts);
  const configDesc = parseManifest(await readContentBlob(content, manifest.digest, opts), manifest.digest).config;
  const config = parseConfig(await readContentBlob(content, configDesc.digest, opts), configDesc.digest);
  const chainId = topChainId(config.rootfs.diff_ids);
  if (chainId === undefined) throw notFound(`image "${name}" has no layers`);
  return { name: image.name, labels: image.labels, target, manifest, config, runConfig: config.config ?? {}, diffIds: config.rootfs.diff_ids, chainId };
}

/** The manifest for `platform`: the target itself, or the first matching entry of an index (nested ones too). */
async function manifestFor(content: Content, desc: Descriptor, platform: Platform, opts: CallOptions, depth = 0): Promise<Descriptor> {
  switch (blobKind(desc.mediaType)) {
    case "manifest":
      return desc;
    case "index": {
      if (depth > 4) throw notFound(`image index ${desc.digest} nests too deep`);
      const entries = parseIndex(await readContentBlob(content, desc.digest, opts), desc.digest).manifests;
      const match = entries.find((m) => (blobKind(m.mediaType) === "index" || blobKind(m.mediaType) === "manifest") && (!m.platform || platformMatches(platform, m.platform)));
      if (!match) throw notFound(`image index ${desc.digest} has no manifest for ${formatPlatform(platform)}`);
      return manifestFor(content, match, platform, opts, depth + 1);
    }
    default:
      throw notFound(`image target ${desc.digest} is a ${desc.mediaType}, not a manifest or index`);
  }
}
