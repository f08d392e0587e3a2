import { containersApi, eventPayloads } from "@berth/api";
import { bindService, invalidArgument, type GrpcService, type MetadataStore, type Publisher } from "@berth/core";
import { anyToWire, containerFromWire, containerToWire } from "./convert-containers.js";
import { checkFilters, maskPaths, opContext, publishEvent, required } from "./edge.js";

/**
 * containerd.services.containers.v1.Containers over the metadata store. Publishes
 * /containers/create, /containers/update and /containers/delete in the request's namespace.
 */
export function createContainersService(metadata: Pick<MetadataStore, "containers">, publisher: Publisher): GrpcService {
  const store = metadata.containers;
  return {
    bindings: [
      bindService(containersApi.Containers, {
        async get(req, ctx) {
          return { container: containerToWire(await store.get(opContext(ctx), req.id)) };
        },

        async list(req, ctx) {
          const containers = await store.list(opContext(ctx), checkFilters(req.filters));
          return { containers: containers.map(containerToWire) };
        },

        // One message per container, read in one go before the first is sent, as containerd does.
        async *listStream(req, ctx) {
          const containers = await store.list(opContext(ctx), checkFilters(req.filters));
          for (const container of containers) yield { container: containerToWire(container) };
        },

        async create(req, ctx) {
          const op = opContext(ctx);
          const created = await store.create(op, containerFromWire(required(req.container, "container")));
          await publishEvent(publisher, op.namespace, "/containers/create", eventPayloads.ContainerCreateSchema, {
            id: created.id,
            image: created.image,
            runtime: {
              name: created.runtime.name,
              ...(created.runtime.options ? { options: anyToWire(created.runtime.options) } : {}),
            },
          });
          return { container: containerToWire(created) };
        },

        async update(req, ctx) {
          const op = opContext(ctx);
          const container = containerFromWire(required(req.container, "container"));
          if (container.id === "") throw invalidArgument("Container.ID required");
          const updated = await store.update(op, container, maskPaths(req.updateMask));
          await publishEvent(publisher, op.namespace, "/containers/update", eventPayloads.ContainerUpdateSchema, {
            id: updated.id,
            image: updated.image,
            labels: { ...updated.labels },
            snapshotKey: updated.snapshotKey,
          });
          return { container: containerToWire(updated) };
        },

        async delete(req, ctx) {
          const op = opContext(ctx);
          await store.delete(op, req.id);
          await publishEvent(publisher, op.namespace, "/containers/delete", eventPayloads.ContainerDeleteSchema, { id: req.id });
          return {};
        },
      }),
    ],
  };
}
