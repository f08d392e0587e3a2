import { createHash } from "node:crypto";

/**
 * The chain IDs of a layer stack (OCI image spec): the first is the first diff ID, each next is
 * sha256 of "<previous chain ID> <diff ID>". A chain ID names the snapshot of all layers so far.
 */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    const prev = out.at(-1);
    out.push(prev === undefined ? diffId : `sha256:${createHash("sha256").update(`${prev} ${diffId}`).digest("hex")}`);
  }
  return out;
}

/** The chain ID of the whole stack: the name of the committed snapshot an image's rootfs is. */
export function topChainId(diffIds: readonly string[]): string | undefined {
  return chainIds(diffIds).at(-1);
}
