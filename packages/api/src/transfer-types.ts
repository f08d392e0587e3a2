// The containerd.types.transfer package spans several files; one namespace for all of them.
export * from "./gen/containerd/types/transfer/registry_pb.js";
export * from "./gen/containerd/types/transfer/imagestore_pb.js";
export * from "./gen/containerd/types/transfer/progress_pb.js";
export * from "./gen/containerd/types/transfer/streaming_pb.js";
export * from "./gen/containerd/types/transfer/importexport_pb.js";
