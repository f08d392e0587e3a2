import {
  DifferPlugin,
  GrpcPlugin,
  MetadataPlugin,
  PluginTypes,
  SNAPSHOT_REBASE_CAPABILITY,
  StreamingPlugin,
  definePlugin,
  hasCapability,
  notFound,
} from "@berth/core";
import { createTransferService } from "./transfer-service.js";

/**
 * io.containerd.grpc.v1.transfer: containerd.services.transfer.v1.Transfer, pulling in the
 * daemon (the path containerd 2's `ctr pull` and the CRI take), progress on a client stream.
 */
export const transferGrpcPlugin = definePlugin({
  type: GrpcPlugin,
  id: "transfer",
  requires: [MetadataPlugin, StreamingPlugin, DifferPlugin],
  init: (ctx) => {
    const differs = ctx.all(DifferPlugin);
    const differ = differs.get("walking") ?? [...differs.values()][0];
    if (differ === undefined) throw notFound("no differ loaded to unpack layers");
    // Asked per pull: a snapshotter registered later (a proxy) is looked up when it is used.
    const canRebase = (name: string) => hasCapability(ctx.statuses(), PluginTypes.snapshotter, name, SNAPSHOT_REBASE_CAPABILITY);
    return createTransferService({ metadata: ctx.single(MetadataPlugin), streams: ctx.single(StreamingPlugin), differ, canRebase, log: ctx.log });
  },
});
