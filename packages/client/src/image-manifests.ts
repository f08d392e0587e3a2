import { createHash } from "node:crypto";
import { invalidArgument, type Descriptor } from "@berth/core";
import type { ImageConfig as RunConfig } from "@berth/oci";

// What the client reads of images to run them. @berth/transfer has fuller versions for pulling;
// the client does not depend on it because it is a daemon-side package (and depends on
// packages whose tests use this client).

export type ManifestKind = "index" | "manifest" | "other";

const KINDS: Readonly<Record<string, ManifestKind>> = {
  "application/vnd.oci.image.index.v1+json": "index",
  "application/vnd.docker.distribution.manifest.list.v2+json": "index",
  "application/vnd.oci.image.manifest.v1+json": "manifest",
  "application/vnd.docker.distribution.manifest.v2+json": "manifest",
};

export const manifestKind = (mediaType: string): ManifestKind => KINDS[mediaType] ?? "other";

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string | undefined;
}

export interface IndexEntry extends Descriptor {
  readonly platform?: Platform | undefined;
}

/** The parts of an image config a runtime reads. */
export interface ImageConfigBlob {
  readonly architecture?: string;
  readonly os?: string;
  readonly rootfs: { readonly diff_ids: readonly string[] };
  readonly config?: RunConfig;
}

function json(bytes: Uint8Array, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
  } catch (err) {
    throw invalidArgument(`${what} is not valid JSON`, err);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw invalidArgument(`${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

function descriptor(v: unknown, what: string): IndexEntry {
  const d = v as Partial<IndexEntry> | null;
  if (typeof d?.mediaType !== "string" || typeof d.digest !== "string" || typeof d.size !== "number") {
    throw invalidArgument(`${what}: not a descriptor (mediaType, digest, size)`);
  }
  return d as IndexEntry;
}

export function parseIndexEntries(bytes: Uint8Array, digest: string): IndexEntry[] {
  const v = json(bytes, `index ${digest}`);
  if (!Array.isArray(v["manifests"])) throw invalidArgument(`index ${digest} has no manifests list`);
  return v["manifests"].map((m, i) => descriptor(m, `index ${digest} manifests[${i}]`));
}

export function parseManifestConfig(bytes: Uint8Array, digest: string): Descriptor {
  return descriptor(json(bytes, `manifest ${digest}`)["config"], `manifest ${digest} config`);
}

export function parseImageConfig(bytes: Uint8Array, digest: string): ImageConfigBlob {
  const v = json(bytes, `image config ${digest}`);
  const rootfs = v["rootfs"] as { diff_ids?: unknown } | undefined;
  if (!Array.isArray(rootfs?.diff_ids) || !rootfs.diff_ids.every((d) => typeof d === "string")) {
    throw invalidArgument(`image config ${digest} has no rootfs.diff_ids`);
  }
  return v as unknown as ImageConfigBlob;
}

/** The chain ID of a layer stack (OCI image spec): the name of the snapshot holding all of it. */
export function topChainId(diffIds: readonly string[]): string | undefined {
  let chain: string | undefined;
  for (const diffId of diffIds) chain = chain === undefined ? diffId : `sha256:${createHash("sha256").update(`${chain} ${diffId}`).digest("hex")}`;
  return chain;
}

const ARCH: Readonly<Record<string, string>> = { x64: "amd64", x86_64: "amd64", ia32: "386", aarch64: "arm64", arm64: "arm64", arm: "arm" };

/** The platform this process runs on, with containerd's names. */
export function hostPlatform(): Platform {
  const architecture = ARCH[process.arch] ?? process.arch;
  return { os: process.platform, architecture, variant: architecture === "arm64" ? "v8" : undefined };
}

/** Whether an image for `candidate` runs on `wanted` (same OS, architecture and variant, arm64's default variant v8). */
export function platformMatches(wanted: Platform, candidate: Platform): boolean {
  const norm = (p: Platform) => {
    const architecture = ARCH[p.architecture.toLowerCase()] ?? p.architecture.toLowerCase();
    const variant = p.variant || (architecture === "arm64" ? "v8" : architecture === "arm" ? "v7" : "");
    return `${p.os.toLowerCase()}/${architecture}/${variant}`;
  };
  return norm(wanted) === norm(candidate);
}

export const formatPlatform = (p: Platform) => [p.os, p.architecture, p.variant].filter(Boolean).join("/");
