import { join } from "node:path";
import { ContentPlugin, MetadataPlugin, SnapshotPlugin, definePlugin, field, optional } from "@berth/core";
import type { ContentSharingPolicy } from "./content.js";
import { openMetadataStore } from "./store.js";

/** The environment's file name inside the plugin's root dir (<root>/io.containerd.metadata.v1.lmdb). */
export const METADATA_FILE = "meta.lmdb";

/**
 * io.containerd.metadata.v1.lmdb: namespaced metadata over the loaded content store and every
 * loaded snapshotter (none is fine, as for containerd's metadata plugin: the loader orders
 * this plugin after all snapshotters, and skipped ones are simply absent).
 *
 *   [plugins."io.containerd.metadata.v1.lmdb"]
 *     content_sharing_policy = "shared"   # or "isolated", as containerd's metadata plugin
 */
export const lmdbMetadataPlugin = definePlugin({
  type: MetadataPlugin,
  id: "lmdb",
  // Snapshotters that failed are left out, as containerd does; content is a must.
  requires: [ContentPlugin, optional(SnapshotPlugin)],
  config: {
    contentSharingPolicy: field.oneOf<ContentSharingPolicy>("shared", ["shared", "isolated"]),
  },
  init: async (ctx, config) => {
    const store = await openMetadataStore(join(ctx.rootDir, METADATA_FILE), ctx.single(ContentPlugin), {
      contentSharingPolicy: config.contentSharingPolicy,
      log: ctx.log,
      snapshotters: ctx.all(SnapshotPlugin),
    });
    ctx.onClose(() => store.close());
    return store;
  },
});
