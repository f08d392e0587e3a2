/**
 * containerd's API, generated from Berth's own .proto files (../../proto) by protoc-gen-es.
 * Each proto package is a namespace: `versionApi.Version` is the service descriptor,
 * `versionApi.VersionResponseSchema` a message schema.
 */
export * as types from "./types.js";
export * as taskTypes from "./gen/containerd/types/task/task_pb.js";
export * as runcOptions from "./gen/containerd/types/runc/options/oci_pb.js";
export * as runtimeOptions from "./gen/containerd/types/runtimeoptions/v1/api_pb.js";
// What runc shims put in a task Metric's data (io.containerd.cgroups.v1/v2.Metrics).
export * as cgroupsV1Metrics from "./gen/containerd/cgroups/v1/metrics_pb.js";
export * as cgroupsV2Metrics from "./gen/containerd/cgroups/v2/metrics_pb.js";
export * as eventPayloads from "./event-payloads.js";
export * as transferTypes from "./transfer-types.js";

export * as versionApi from "./gen/containerd/services/version/v1/version_pb.js";
export * as introspectionApi from "./gen/containerd/services/introspection/v1/introspection_pb.js";
export * as namespacesApi from "./gen/containerd/services/namespaces/v1/namespace_pb.js";
export * as containersApi from "./gen/containerd/services/containers/v1/containers_pb.js";
export * as contentApi from "./gen/containerd/services/content/v1/content_pb.js";
export * as imagesApi from "./gen/containerd/services/images/v1/images_pb.js";
export * as leasesApi from "./gen/containerd/services/leases/v1/leases_pb.js";
export * as snapshotsApi from "./gen/containerd/services/snapshots/v1/snapshots_pb.js";
export * as diffApi from "./gen/containerd/services/diff/v1/diff_pb.js";
export * as tasksApi from "./gen/containerd/services/tasks/v1/tasks_pb.js";
export * as eventsApi from "./gen/containerd/services/events/v1/events_pb.js";
export * as transferApi from "./gen/containerd/services/transfer/v1/transfer_pb.js";
export * as streamingApi from "./gen/containerd/services/streaming/v1/streaming_pb.js";
export * as sandboxApi from "./gen/containerd/services/sandbox/v1/sandbox_pb.js";
export * as ttrpcEventsApi from "./gen/containerd/services/ttrpc/events/v1/events_pb.js";

export * as shimTaskApi from "./gen/containerd/runtime/task/v2/shim_pb.js";
export * as shimSandboxApi from "./gen/containerd/runtime/sandbox/v1/sandbox_pb.js";
export * as shimBootstrap from "./gen/containerd/runtime/bootstrap/v1/bootstrap_pb.js";

export * as criApi from "./gen/k8s/cri/runtime/v1/api_pb.js";

export * as healthApi from "./gen/grpc/health/v1/health_pb.js";
export * as ttrpcWire from "./gen/ttrpc/request_pb.js";
export * as rpcStatus from "./gen/google/rpc/status_pb.js";

export { packAny, unpackAny, type AnyPayload } from "./any.js";
export * as proxyPluginsApi from "./gen/berth/services/plugins/v1/plugins_pb.js";
