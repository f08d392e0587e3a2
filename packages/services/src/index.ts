/**
 * @berth/services: containerd's namespaces, content, images, containers and leases gRPC
 * services (io.containerd.grpc.v1.*) over Berth's metadata store.
 */
import { containersGrpcPlugin, contentGrpcPlugin, imagesGrpcPlugin, leasesGrpcPlugin, namespacesGrpcPlugin } from "./plugins.js";

export { namespacesGrpcPlugin, contentGrpcPlugin, imagesGrpcPlugin, containersGrpcPlugin, leasesGrpcPlugin };
/** All five, for daemons that list their plugins. */
export const servicePlugins = [namespacesGrpcPlugin, contentGrpcPlugin, imagesGrpcPlugin, containersGrpcPlugin, leasesGrpcPlugin] as const;
export { createNamespacesService } from "./namespaces-service.js";
export { createContentService, LIST_BATCH, READ_CHUNK } from "./content-service.js";
export { createImagesService } from "./images-service.js";
export { createContainersService } from "./containers-service.js";
export { createLeasesService, randomLeaseId } from "./leases-service.js";
