/**
 * @berth/services: containerd's namespaces, content, images, containers, leases, snapshots and
 * diff gRPC services (io.containerd.grpc.v1.*) over Berth's metadata store and differs.
 */
import {
  containersGrpcPlugin,
  contentGrpcPlugin,
  diffGrpcPlugin,
  imagesGrpcPlugin,
  leasesGrpcPlugin,
  namespacesGrpcPlugin,
  snapshotsGrpcPlugin,
} from "./plugins.js";

export { namespacesGrpcPlugin, contentGrpcPlugin, imagesGrpcPlugin, containersGrpcPlugin, leasesGrpcPlugin, snapshotsGrpcPlugin, diffGrpcPlugin };
/** Every plugin of this package, for daemons that list their plugins. */
export const servicePlugins = [
  namespacesGrpcPlugin,
  contentGrpcPlugin,
  imagesGrpcPlugin,
  containersGrpcPlugin,
  leasesGrpcPlugin,
  snapshotsGrpcPlugin,
  diffGrpcPlugin,
] as const;
export { createNamespacesService } from "./namespaces-service.js";
export { createContentService, LIST_BATCH, READ_CHUNK } from "./content-service.js";
export { createImagesService } from "./images-service.js";
export { createContainersService } from "./containers-service.js";
export { createLeasesService, randomLeaseId } from "./leases-service.js";
export { createSnapshotsService, SNAPSHOT_LIST_BATCH } from "./snapshots-service.js";
export { createDiffService, type DiffServiceOptions } from "./diff-service.js";
