import { formatReference, parseReference, repositoryName, type ImageReference } from "@berth/distribution";

/**
 * A reference as the CRI stores it: normalised the docker way ("busybox" →
 * "docker.io/library/busybox:latest"), and with a digest the tag dropped, as containerd's
 * CRI does (`name:tag@digest` pulls and is named `name@digest`). InvalidArgument when malformed.
 */
export function normalizeImageRef(input: string): { name: string; reference: ImageReference } {
  const parsed = parseReference(input);
  const reference = parsed.digest !== undefined ? { ...parsed, tag: undefined } : parsed;
  return { name: formatReference(reference), reference };
}

/** The names a pulled image gets besides its ID: `repo:tag` when the reference had a tag, and `repo@<manifest digest>`. */
export function repoNames(reference: ImageReference, targetDigest: string): { repoTag?: string; repoDigest: string } {
  const repo = repositoryName(reference);
  return { repoTag: reference.tag !== undefined ? `${repo}:${reference.tag}` : undefined, repoDigest: `${repo}@${targetDigest}` };
}

const IMAGE_ID = /^sha256:[a-f0-9]{64}$/;

/** True for a full image ID ("sha256:<64 hex>"), which is also a record name of every CRI image. */
export const isImageId = (name: string): boolean => IMAGE_ID.test(name);

/** How a record name shows in ImageStatus: a repo tag, a repo digest, or neither (an ID). */
export function classifyName(name: string): "tag" | "digest" | "other" {
  if (isImageId(name)) return "other";
  try {
    const ref = parseReference(name, { defaultTag: false });
    if (ref.digest !== undefined) return "digest";
    return ref.tag !== undefined ? "tag" : "other";
  } catch {
    return "other";
  }
}
