// The messages carried inside events (Envelope.event), one proto file per subject.
export * from "./gen/containerd/events/container_pb.js";
export * from "./gen/containerd/events/content_pb.js";
export * from "./gen/containerd/events/image_pb.js";
export * from "./gen/containerd/events/namespace_pb.js";
export * from "./gen/containerd/events/sandbox_pb.js";
export * from "./gen/containerd/events/snapshot_pb.js";
export * from "./gen/containerd/events/task_pb.js";
