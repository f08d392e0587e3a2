/**
 * @berth/services: containerd's namespaces, content, images, containers, leases, snapshots, diff
 * and tasks gRPC services (io.containerd.grpc.v1.*) over Berth's metadata store and differs.
 */
import {
  containersGrpcPlugin,
  contentGrpcPlugin,
  diffGrpcPlugin,
  imagesGrpcPlugin,
  leasesGrpcPlugin,
  namespacesGrpcPlugin,
  snapshotsGrpcPlugin,
  tasksGrpcPlugin,
} from "./plugins.js";

export { namespacesGrpcPlugin, contentGrpcPlugin, imagesGrpcPlugin, containersGrpcPlugin, leasesGrpcPlugin, snapshotsGrpcPlugin, diffGrpcPlugin, tasksGrpcPlugin };
/** Every plugin of this package, for daemons that list their plugins. */
export const servicePlugins = [
  namespacesGrpcPlugin,
  contentGrpcPlugin,
  imagesGrpcPlugin,
  containersGrpcPlugin,
  leasesGrpcPlugin,
  snapshotsGrpcPlugin,
  diffGrpcPlugin,
  tasksGrpcPlugin,
] as const;
export { createNamespacesService } from "./namespaces-service.js";
export { createContentService, LIST_BATCH, READ_CHUNK } from "./content-service.js";
export { createImagesService } from "./images-service.js";
export { createContainersService } from "./containers-service.js";
export { createLeasesService, randomLeaseId } from "./leases-service.js";
export { createSnapshotsService, SNAPSHOT_LIST_BATCH } from "./snapshots-service.js";
export { createDiffService, type DiffServiceOptions } from "./diff-service.js";
export { createTasksService, STATE_TIMEOUT_MS } from "./tasks-service.js";
export { CHECKPOINT_MEDIA_TYPE, CHECKPOINT_CONFIG_MEDIA_TYPE } from "./tasks-checkpoint.js";
