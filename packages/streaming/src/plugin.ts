import { GrpcPlugin, StreamingPlugin, definePlugin } from "@berth/core";
import { createStreamManager } from "./stream-manager.js";
import { createStreamingService } from "./streaming-service.js";

/** io.containerd.streaming.v1.manager: where services find the streams clients opened. */
export const streamManagerPlugin = definePlugin({
  type: StreamingPlugin,
  id: "manager",
  init: () => createStreamManager(),
});

/** io.containerd.grpc.v1.streaming: containerd.services.streaming.v1.Streaming. */
export const streamingGrpcPlugin = definePlugin({
  type: GrpcPlugin,
  id: "streaming",
  requires: [StreamingPlugin],
  init: (ctx) => createStreamingService(ctx.single(StreamingPlugin)),
});
