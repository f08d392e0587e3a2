import type { ContentStore } from "../content/index.js";
import type { Exchange } from "../events/index.js";
import type { MetadataStore } from "../metadata/index.js";
import type { Snapshotter } from "../snapshots/index.js";
import type { Differ } from "../diff/index.js";
import type { StreamManager } from "../streaming/index.js";
import type { GcScheduler } from "../gc/index.js";
import type { GrpcService } from "../grpc/service.js";
import { pluginType } from "./plugin-type.js";

/**
 * containerd's plugin type names. Subsystems whose interface core does not define yet are
 * typed `unknown` here; their issues narrow them.
 */
export const PluginTypes = {
  content: "io.containerd.content.v1",
  snapshotter: "io.containerd.snapshotter.v1",
  metadata: "io.containerd.metadata.v1",
  runtimeV2: "io.containerd.runtime.v2",
  gc: "io.containerd.gc.v1",
  grpc: "io.containerd.grpc.v1",
  ttrpc: "io.containerd.ttrpc.v1",
  service: "io.containerd.service.v1",
  event: "io.containerd.event.v1",
  lease: "io.containerd.lease.v1",
  differ: "io.containerd.differ.v1",
  internal: "io.containerd.internal.v1",
  transfer: "io.containerd.transfer.v1",
  streaming: "io.containerd.streaming.v1",
  sandboxStore: "io.containerd.sandbox.store.v1",
  sandboxController: "io.containerd.sandbox.controller.v1",
} as const;

export const EventPlugin = pluginType<Exchange>(PluginTypes.event);
export const ContentPlugin = pluginType<ContentStore>(PluginTypes.content);
export const MetadataPlugin = pluginType<MetadataStore>(PluginTypes.metadata);
export const GrpcPlugin = pluginType<GrpcService>(PluginTypes.grpc);
export const SnapshotPlugin = pluginType<Snapshotter>(PluginTypes.snapshotter);
export const DifferPlugin = pluginType<Differ>(PluginTypes.differ);
export const StreamingPlugin = pluginType<StreamManager>(PluginTypes.streaming);
export const GcPlugin = pluginType<GcScheduler>(PluginTypes.gc);
