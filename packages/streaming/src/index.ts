/** @berth/streaming: containerd's streaming service and the manager other services find streams in. */
export { createStreamManager } from "./stream-manager.js";
export { createStreamingService } from "./streaming-service.js";
export { streamManagerPlugin, streamingGrpcPlugin } from "./plugin.js";
export { MessageQueue } from "./message-queue.js";
