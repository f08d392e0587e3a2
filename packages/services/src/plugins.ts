// berthd imports this module and loads every registration it exports: export each one once.
import { DifferPlugin, EventPlugin, GcPlugin, GrpcPlugin, MetadataPlugin, RuntimePlugin, definePlugin, field, notFound, optional, skipPlugin, type GarbageCollector } from "@berth/core";
import { createContainersService } from "./containers-service.js";
import { createContentService } from "./content-service.js";
import { createDiffService } from "./diff-service.js";
import { createImagesService } from "./images-service.js";
import { createLeasesService } from "./leases-service.js";
import { createNamespacesService } from "./namespaces-service.js";
import { createSnapshotsService } from "./snapshots-service.js";
import { createTasksService } from "./tasks-service.js";

/** io.containerd.grpc.v1.namespaces: containerd.services.namespaces.v1.Namespaces. */
export const namespacesGrpcPlugin = definePlugin({
  type: GrpcPlugin,
  id: "namespaces",
  requires: [MetadataPlugin, EventPlugin],
  init: (ctx) => createNamespacesService(ctx.single(MetadataPlugin), ctx.single(EventPlugin)),
});

/** io.containerd.grpc.v1.content: containerd.services.content.v1.Content. */
export const contentGrpcPlugin = definePlugin({
  type: GrpcPlugin,
  id: "content",
  requires: [MetadataPlugin, EventPlugin],
  init: (ctx) => createContentService(ctx.single(MetadataPlugin), ctx.single(EventPlugin)),
});

/** The garbage collector a `sync` delete waits for, when one is loaded (containerd: the gc plugin, optional). */
const collectorOf = (all: ReadonlyMap<string, GarbageCollector>): GarbageCollector | undefined => all.values().next().value;

/** io.containerd.grpc.v1.images: containerd.services.images.v1.Images. */
export const imagesGrpcPlugin = definePlugin({
  type: GrpcPlugin,
  id: "images",
  requires: [MetadataPlugin, EventPlugin, optional(GcPlugin)],
  init: (ctx) => createImagesService(ctx.single(MetadataPlugin), ctx.single(EventPlugin), collectorOf(ctx.all(GcPlugin))),
});

/** io.containerd.grpc.v1.containers: containerd.services.containers.v1.Containers. */
export const containersGrpcPlugin = definePlugin({
  type: GrpcPlugin,
  id: "containers",
  requires: [MetadataPlugin, EventPlugin],
  init: (ctx) => createContainersService(ctx.single(MetadataPlugin), ctx.single(EventPlugin)),
});

/** io.containerd.grpc.v1.leases: containerd.services.leases.v1.Leases. Publishes nothing, so needs no exchange. */
export const leasesGrpcPlugin = definePlugin({
  type: GrpcPlugin,
  id: "leases",
  requires: [MetadataPlugin, optional(GcPlugin)],
  init: (ctx) => createLeasesService(ctx.single(MetadataPlugin), collectorOf(ctx.all(GcPlugin))),
});


/** io.containerd.grpc.v1.snapshots: containerd.services.snapshots.v1.Snapshots over metadata's namespaced snapshotters. */
export const snapshotsGrpcPlugin = definePlugin({
  type: GrpcPlugin,
  id: "snapshots",
  requires: [MetadataPlugin, EventPlugin],
  init: (ctx) => createSnapshotsService(ctx.single(MetadataPlugin), ctx.single(EventPlugin)),
});

/**
 * io.containerd.grpc.v1.diff: containerd.services.diff.v1.Diff over the loaded differs, tried
 * in the configured order (containerd's diff service config, under this plugin's URI):
 *
 *   [plugins."io.containerd.grpc.v1.diff"]
 *     default = ["walking"]
 *     sync_fs = false
 *
 * A differ named there that did not load fails this plugin, as in containerd.
 */
export const diffGrpcPlugin = definePlugin({
  type: GrpcPlugin,
  id: "diff",
  requires: [DifferPlugin],
  config: {
    default: field.stringArray(["walking"]),
    syncFs: field.boolean(false),
  },
  init: (ctx, config) => {
    const loaded = ctx.all(DifferPlugin);
    const ordered = config.default.map((id) => {
      const differ = loaded.get(id);
      if (!differ) {
        const have = [...loaded.keys()].join(", ") || "none";
        throw notFound(`needed differ not loaded: ${id} (loaded: ${have})`);
      }
      return differ;
    });
    return createDiffService(ordered, { syncFs: config.syncFs });
  },
});

/**
 * io.containerd.grpc.v1.tasks: containerd.services.tasks.v1.Tasks over the runtime plugin
 * io.containerd.runtime.v2.task (containerd looks it up by that ID too) and metadata. A daemon
 * without that runtime (no @berth/runtime-v2 installed) skips this service rather than failing.
 */
export const tasksGrpcPlugin = definePlugin({
  type: GrpcPlugin,
  id: "tasks",
  requires: [optional(RuntimePlugin), MetadataPlugin],
  init: (ctx) => {
    const runtime = ctx.all(RuntimePlugin).get("task");
    if (!runtime) throw skipPlugin("no task runtime loaded (io.containerd.runtime.v2.task)");
    return createTasksService(runtime, ctx.single(MetadataPlugin));
  },
});
