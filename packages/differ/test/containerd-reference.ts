import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { exec, startPrivateContainerd } from "@berth/testing";
import { treeManifest, type ManifestEntry } from "./tree-manifest.js";

/**
 * How Debian's containerd unpacks the OCI layout `layout`: imported into a private containerd,
 * unpacked by its overlayfs snapshotter, a view of the top snapshot mounted (`ctr images mount`)
 * and walked.
 */
export async function containerdManifest(layout: string): Promise<ManifestEntry[]> {
  const containerd = await startPrivateContainerd();
  try {
    const ctr = containerd.ctrIn("berth-test");
    const archive = join(containerd.dir, "image.tar");
    await exec("tar", ["-cf", archive, "-C", layout, "."]);
    await ctr("images", "import", "--base-name", "berth.test/image", archive);
    const [name] = (await ctr("images", "ls", "-q")).split("\n").filter(Boolean);
    if (!name) throw new Error("containerd imported no image");
    const target = join(containerd.dir, "mnt");
    await mkdir(target);
    await ctr("images", "mount", name, target);
    try {
      return treeManifest(target);
    } finally {
      await ctr("images", "unmount", "--rm", target);
    }
  } finally {
    await containerd.stop();
  }
}
