// berthd imports this module and loads every registration it exports: export each one once.
import { EventPlugin, GrpcPlugin, MetadataPlugin, definePlugin } from "@berth/core";
import { createContainersService } from "./containers-service.js";
import { createContentService } from "./content-service.js";
import { createImagesService } from "./images-service.js";
import { createLeasesService } from "./leases-service.js";
import { createNamespacesService } from "./namespaces-service.js";

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

/** io.containerd.grpc.v1.images: containerd.services.images.v1.Images. */
export const imagesGrpcPlugin = definePlugin({
  type: GrpcPlugin,
  id: "images",
  requires: [MetadataPlugin, EventPlugin],
  init: (ctx) => createImagesService(ctx.single(MetadataPlugin), ctx.single(EventPlugin)),
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
  requires: [MetadataPlugin],
  init: (ctx) => createLeasesService(ctx.single(MetadataPlugin)),
});

