// Debian's ctr drives the snapshots service over the btrfs snapshotter (issue #4's "done when"),
// its root a loop-mounted btrfs image made for the test with mkfs.btrfs.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { exec, requireTool } from "./helpers.js";
import { describeCtrSnapshots, exportedPlugin } from "./ctr-snapshots-scenario.js";

describeCtrSnapshots("ctr snapshots --snapshotter btrfs", {
  snapshotter: "btrfs",
  plugins: async () => [await exportedPlugin("@berth/snapshot-btrfs", "io.containerd.snapshotter.v1")],
  async setup(dir, config) {
    await requireTool("mkfs.btrfs", "btrfs-progs");
    const image = join(dir, "btrfs.img");
    const root = join(dir, "btrfs");
    await exec("truncate", ["-s", "1G", image]);
    await exec("mkfs.btrfs", ["-q", image]);
    await mkdir(root);
    // The loop device goes away with the unmount (mount -o loop sets autoclear).
    await exec("mount", ["-o", "loop", image, root]);
    config.plugins["io.containerd.snapshotter.v1.btrfs"] = { root_path: root };
    return async () => void (await exec("umount", [root]));
  },
});
