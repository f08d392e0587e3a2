import {
  DifferPlugin,
  EventPlugin,
  GrpcPlugin,
  MetadataPlugin,
  PluginTypes,
  RuntimePlugin,
  SNAPSHOT_REBASE_CAPABILITY,
  definePlugin,
  hasCapability,
  notFound,
  optional,
} from "@berth/core";
import { criConfigSchema } from "./config/cri-config.js";
import { createCriService } from "./cri-service.js";

/**
 * io.containerd.grpc.v1.cri: runtime.v1.RuntimeService and runtime.v1.ImageService on the
 * daemon's socket, configured like containerd 1.6's CRI (version-2 section
 * `[plugins."io.containerd.grpc.v1.cri"]`). Pulls run in this process through @berth/transfer;
 * tasks go to the v2 task runtime when one is loaded.
 */
export const criGrpcPlugin = definePlugin({
  type: GrpcPlugin,
  id: "cri",
  requires: [MetadataPlugin, EventPlugin, DifferPlugin, optional(RuntimePlugin)],
  config: criConfigSchema,
  async init(ctx, config) {
    const differs = ctx.all(DifferPlugin);
    const differ = differs.get("walking") ?? [...differs.values()][0];
    if (differ === undefined) throw notFound("cri: no differ loaded to unpack layers");
    const service = await createCriService({
      config,
      metadata: ctx.single(MetadataPlugin),
      events: ctx.single(EventPlugin),
      differ,
      canRebase: (name) => hasCapability(ctx.statuses(), PluginTypes.snapshotter, name, SNAPSHOT_REBASE_CAPABILITY),
      runtime: ctx.all(RuntimePlugin).get("task"),
      rootDir: ctx.rootDir,
      stateDir: ctx.stateDir,
      daemon: ctx.daemon,
      log: ctx.log,
      signal: ctx.signal,
    });
    ctx.onClose(() => service.close());
    return service;
  },
});
