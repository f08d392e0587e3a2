import { DifferPlugin, MetadataPlugin, definePlugin, field } from "@berth/core";
import { createWalkingDiffer } from "./walking-differ.js";

/** Go's names for the CPUs Node reports, for the platform the differ advertises. */
const GO_ARCH: Readonly<Record<string, string>> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };

/**
 * io.containerd.differ.v1.walking: applies layers from the namespaced content store to mounts
 * and writes diffs back into it.
 *
 *   [plugins."io.containerd.differ.v1.walking"]
 *     compression_level = 6   # gzip level of the layers Compare writes: 1 fastest … 9 smallest
 */
export const walkingDifferPlugin = definePlugin({
  type: DifferPlugin,
  id: "walking",
  requires: [MetadataPlugin],
  config: { compressionLevel: field.integer(6, 1, 9) },
  init: (ctx, config) => {
    ctx.meta.platforms.push({ os: "linux", architecture: GO_ARCH[process.arch] ?? process.arch });
    return createWalkingDiffer({ content: ctx.single(MetadataPlugin).content, gzipLevel: config.compressionLevel });
  },
});
