import { ContentPlugin, definePlugin, field } from "@berth/core";
import { createLocalContentStore } from "./store.js";

/**
 * io.containerd.content.v1.content: blobs under the plugin's root dir, as containerd's
 * `content` plugin keeps them under /var/lib/containerd/io.containerd.content.v1.content.
 *
 *   [plugins."io.containerd.content.v1.content"]
 *     ingest_expiry = "24h"   # remove ingests idle this long when the daemon starts; "0" never
 */
export const localContentPlugin = definePlugin({
  type: ContentPlugin,
  id: "content",
  config: { ingestExpiry: field.duration(0) },
  init: (ctx, config) => {
    // containerd exports the root so clients (and `ctr plugins ls -d`) can find the blobs.
    ctx.meta.exports["root"] = ctx.rootDir;
    return createLocalContentStore(ctx.rootDir, { ingestExpiry: config.ingestExpiry, log: ctx.log });
  },
});
