import { randomBytes } from "node:crypto";
import { leasesApi } from "@berth/api";
import { bindService, validateIdentifier, type GarbageCollector, type GrpcService, type MetadataStore } from "@berth/core";
import { leaseToWire, resourceFromWire, resourceToWire } from "./convert-leases.js";
import { checkFilters, opContext, required } from "./edge.js";

/**
 * containerd.services.leases.v1.Leases over the metadata store's lease manager. No events. A
 * delete with `sync` waits for a garbage collection by `gc` that starts after it.
 */
export function createLeasesService(metadata: Pick<MetadataStore, "leases">, gc?: GarbageCollector): GrpcService {
  const manager = metadata.leases;
  return {
    bindings: [
      bindService(leasesApi.Leases, {
        async create(req, ctx) {
          const op = opContext(ctx);
          const id = req.id === "" ? randomLeaseId() : req.id;
          const lease = await manager.create(op, { id, labels: { ...req.labels } });
          return { lease: leaseToWire(lease) };
        },

        async delete(req, ctx) {
          const op = opContext(ctx);
          await manager.delete(op, req.id, { sync: req.sync });
          if (req.sync && gc) await gc.collect({ signal: op.signal });
          return {};
        },

        async list(req, ctx) {
          const leases = await manager.list(opContext(ctx), checkFilters(req.filters));
          return { leases: leases.map(leaseToWire) };
        },

        async addResource(req, ctx) {
          await manager.addResource(opContext(ctx), req.id, resourceFromWire(required(req.resource, "resource")));
          return {};
        },

        async deleteResource(req, ctx) {
          await manager.deleteResource(opContext(ctx), req.id, resourceFromWire(required(req.resource, "resource")));
          return {};
        },

        async listResources(req, ctx) {
          const resources = await manager.listResources(opContext(ctx), req.id);
          return { resources: resources.map(resourceToWire) };
        },
      }),
    ],
  };
}

/**
 * An ID in containerd's form for a lease created without one: the clock's nanoseconds within
 * the second, a dash, and three random bytes in URL-safe base64. Unlike containerd, draws
 * again when the random part would make an invalid identifier ("-" or "_" at the end or
 * next to the dash).
 */
export function randomLeaseId(): string {
  for (;;) {
    const nanos = (Date.now() % 1000) * 1_000_000 + Number(process.hrtime.bigint() % 1_000_000n);
    const id = `${nanos}-${randomBytes(3).toString("base64url")}`;
    if (isIdentifier(id)) return id;
  }
}

function isIdentifier(id: string): boolean {
  try {
    validateIdentifier(id);
    return true;
  } catch {
    return false;
  }
}
