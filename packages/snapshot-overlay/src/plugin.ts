import { definePlugin, field, skipPlugin, SNAPSHOT_REBASE_CAPABILITY, SnapshotPlugin } from "@berth/core";
import { createOverlaySnapshotter } from "./overlay-snapshotter.js";
import { probeOverlay } from "./probe-overlay.js";

/**
 * io.containerd.snapshotter.v1.overlayfs, configured as containerd's:
 *
 *   [plugins."io.containerd.snapshotter.v1.overlayfs"]
 *     root_path = ""            # default: the plugin's root dir
 *     upperdir_label = false    # label snapshots with containerd.io/snapshot/overlay.upperdir
 *     sync_remove = false       # remove waits for the files to be deleted
 *     mount_options = []        # added to every overlay mount
 *
 * Skipped, with the reason, on a kernel without overlay.
 */
export const overlayPlugin = definePlugin({
  type: SnapshotPlugin,
  id: "overlayfs",
  config: {
    rootPath: field.string(""),
    upperdirLabel: field.boolean(false),
    syncRemove: field.boolean(false),
    mountOptions: field.stringArray([]),
  },
  async init(ctx, config) {
    const probe = await probeOverlay();
    if (!probe.supported) throw skipPlugin(probe.reason);
    const root = config.rootPath === "" ? ctx.rootDir : config.rootPath;
    const mountOptions = [...config.mountOptions];
    // containerd's default; an explicit index option in the config wins.
    if (probe.hasIndex && !mountOptions.some((o) => o === "index" || o.startsWith("index="))) mountOptions.push("index=off");
    const snapshotter = await createOverlaySnapshotter(root, {
      upperdirLabel: config.upperdirLabel,
      syncRemove: config.syncRemove,
      mountOptions,
      log: ctx.log,
    });
    ctx.meta.exports["root"] = root;
    // A layer's upper dir holds only its own changes, so its parent can be named at commit.
    ctx.meta.capabilities.add(SNAPSHOT_REBASE_CAPABILITY);
    ctx.onClose(() => snapshotter.close());
    return snapshotter;
  },
});
