import { definePlugin, field, SnapshotPlugin } from "@berth/core";
import { btrfsVersion } from "./btrfs-cli.js";
import { createBtrfsSnapshotter } from "./btrfs-snapshotter.js";

/**
 * io.containerd.snapshotter.v1.btrfs, configured as containerd's:
 *
 *   [plugins."io.containerd.snapshotter.v1.btrfs"]
 *     root_path = ""   # default: the plugin's root dir; must be on btrfs
 *
 * Skipped, with the reason, when the root is not on btrfs; fails when it is but btrfs-progs is
 * missing (then the configuration asks for btrfs and the machine lacks a tool).
 */
export const btrfsPlugin = definePlugin({
  type: SnapshotPlugin,
  id: "btrfs",
  config: { rootPath: field.string("") },
  async init(ctx, config) {
    const root = config.rootPath === "" ? ctx.rootDir : config.rootPath;
    const snapshotter = await createBtrfsSnapshotter(root, { log: ctx.log });
    try {
      await btrfsVersion();
    } catch (err) {
      await snapshotter.close();
      throw err;
    }
    ctx.meta.exports["root"] = root;
    ctx.onClose(() => snapshotter.close());
    return snapshotter;
  },
});
