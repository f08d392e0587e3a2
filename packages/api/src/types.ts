// containerd.types: the shared vocabulary of every service, from several proto files.
export * from "./gen/containerd/types/descriptor_pb.js";
export * from "./gen/containerd/types/event_pb.js";
export * from "./gen/containerd/types/introspection_pb.js";
export * from "./gen/containerd/types/metrics_pb.js";
export * from "./gen/containerd/types/mount_pb.js";
export * from "./gen/containerd/types/platform_pb.js";
export * from "./gen/containerd/types/sandbox_pb.js";
