import { eventPayloads, namespacesApi } from "@berth/api";
import { bindService, invalidArgument, type GrpcService, type MetadataStore, type Publisher } from "@berth/core";
import { namespaceFromWire, namespaceToWire } from "./convert-namespaces.js";
import { maskPaths, publishEvent, required } from "./edge.js";

/**
 * containerd.services.namespaces.v1.Namespaces over the metadata store. Calls need no
 * namespace header: the namespace is in the request, and events about it are published in
 * that namespace, as containerd does.
 */
export function createNamespacesService(metadata: Pick<MetadataStore, "namespaces">, publisher: Publisher): GrpcService {
  const store = metadata.namespaces;
  return {
    bindings: [
      bindService(namespacesApi.Namespaces, {
        async get(req) {
          return { namespace: namespaceToWire(await store.get(req.name)) };
        },

        // containerd ignores ListNamespacesRequest.filter; so does Berth.
        async list() {
          const all = await store.list();
          return { namespaces: all.map(namespaceToWire) };
        },

        async create(req) {
          const ns = namespaceFromWire(required(req.namespace, "namespace"));
          const created = await store.create(ns.name, ns.labels);
          await publishEvent(publisher, created.name, "/namespaces/create", eventPayloads.NamespaceCreateSchema, {
            name: created.name,
            labels: { ...created.labels },
          });
          return { namespace: namespaceToWire(created) };
        },

        async update(req) {
          const ns = namespaceFromWire(required(req.namespace, "namespace"));
          const paths = maskPaths(req.updateMask);
          // Only single labels can be named in a mask; no mask replaces every label.
          for (const path of paths) {
            if (!path.startsWith("labels.")) throw invalidArgument(`cannot update "${path}" field`);
          }
          const updated = await store.update(ns, paths);
          await publishEvent(publisher, ns.name, "/namespaces/update", eventPayloads.NamespaceUpdateSchema, {
            name: ns.name,
            labels: { ...ns.labels },
          });
          return { namespace: namespaceToWire(updated) };
        },

        async delete(req) {
          await store.delete(req.name);
          await publishEvent(publisher, req.name, "/namespaces/delete", eventPayloads.NamespaceDeleteSchema, { name: req.name });
          return {};
        },
      }),
    ],
  };
}
