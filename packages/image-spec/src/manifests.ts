import { invalidArgument, type Descriptor } from "@berth/core";
import { blobKind, childGcLabelPrefix } from "./media-types.js";
import type { Platform } from "./platforms.js";

export interface PlatformDescriptor extends Descriptor {
  readonly platform?: Platform | undefined;
}

export interface ImageIndex {
  readonly mediaType?: string;
  readonly manifests: readonly PlatformDescriptor[];
}

export interface ImageManifest {
  readonly mediaType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

/**
 * The `config` section of an image config: how the image says to run it, with Docker's
 * capitalised names as they appear in the JSON (lists may be null there).
 */
export interface ImageRunConfig {
  readonly User?: string;
  readonly ExposedPorts?: Readonly<Record<string, object>>;
  readonly Env?: readonly string[] | null;
  readonly Entrypoint?: readonly string[] | null;
  readonly Cmd?: readonly string[] | null;
  readonly Volumes?: Readonly<Record<string, object>>;
  readonly WorkingDir?: string;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly StopSignal?: string;
  readonly ArgsEscaped?: boolean;
}

/** The parts of the OCI image config a runtime reads. */
export interface ImageConfig {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
  readonly rootfs: { readonly type: string; readonly diff_ids: readonly string[] };
  readonly config?: ImageRunConfig;
}

/** Manifests and indexes larger than this are refused: they are held in memory whole. */
export const MAX_MANIFEST_BYTES = 4 << 20;

function parseJson(bytes: Uint8Array, what: string, digest: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
  } catch (err) {
    throw invalidArgument(`${what} ${digest} is not valid JSON`, err);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function descriptor(v: unknown, where: string): PlatformDescriptor {
  if (!isObject(v) || typeof v["mediaType"] !== "string" || typeof v["digest"] !== "string" || typeof v["size"] !== "number") {
    throw invalidArgument(`${where}: not a descriptor (mediaType, digest, size)`);
  }
  if (!/^sha256:[0-9a-f]{64}$/.test(v["digest"])) throw invalidArgument(`${where}: unsupported digest ${v["digest"]}`);
  return v as unknown as PlatformDescriptor;
}

export function parseIndex(bytes: Uint8Array, digest: string): ImageIndex {
  const v = parseJson(bytes, "index", digest);
  if (!isObject(v) || !Array.isArray(v["manifests"])) throw invalidArgument(`index ${digest} has no manifests list`);
  const manifests = v["manifests"].map((m, i) => descriptor(m, `index ${digest} manifests[${i}]`));
  return { ...(v as object), manifests } as ImageIndex;
}

export function parseManifest(bytes: Uint8Array, digest: string): ImageManifest {
  const v = parseJson(bytes, "manifest", digest);
  if (!isObject(v) || !Array.isArray(v["layers"])) throw invalidArgument(`manifest ${digest} has no layers list`);
  const config = descriptor(v["config"], `manifest ${digest} config`);
  const layers = v["layers"].map((l, i) => descriptor(l, `manifest ${digest} layers[${i}]`));
  return { ...(v as object), config, layers } as ImageManifest;
}

export function parseConfig(bytes: Uint8Array, digest: string): ImageConfig {
  const v = parseJson(bytes, "image config", digest);
  if (!isObject(v) || !isObject(v["rootfs"]) || !Array.isArray(v["rootfs"]["diff_ids"]) || !v["rootfs"]["diff_ids"].every((d) => typeof d === "string")) {
    throw invalidArgument(`image config ${digest} has no rootfs.diff_ids`);
  }
  return v as unknown as ImageConfig;
}

/** The children of an index or manifest, in order: what a parent holds a GC reference to. */
export function childrenOf(mediaType: string, bytes: Uint8Array, digest: string): PlatformDescriptor[] {
  switch (blobKind(mediaType)) {
    case "index":
      return [...parseIndex(bytes, digest).manifests];
    case "manifest": {
      const m = parseManifest(bytes, digest);
      return [m.config, ...m.layers];
    }
    default:
      return [];
  }
}

/**
 * containerd's GC reference labels for a parent's children: `…config` once, `…m.<i>` and
 * `…l.<i>` counted per key, so the collector follows index → manifests → config and layers.
 */
export function childGcLabels(children: readonly Descriptor[]): Record<string, string> {
  const labels: Record<string, string> = {};
  const seen = new Map<string, number>();
  for (const child of children) {
    const prefix = childGcLabelPrefix(blobKind(child.mediaType));
    const n = seen.get(prefix) ?? 0;
    seen.set(prefix, n + 1);
    const key = prefix.endsWith(".") || n > 0 ? `${prefix}${n}` : prefix;
    labels[key] = child.digest;
  }
  return labels;
}
