// containerd.services.leases.v1 messages <-> core's Lease and LeaseResource records.
import type { leasesApi } from "@berth/api";
import type { Lease, LeaseResource } from "@berth/core";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";

export type LeaseOut = MessageInitShape<typeof leasesApi.LeaseSchema>;
export type ResourceOut = MessageInitShape<typeof leasesApi.ResourceSchema>;

export function leaseToWire(lease: Lease): LeaseOut {
  return { id: lease.id, createdAt: timestampFromDate(lease.createdAt), labels: { ...lease.labels } };
}

export function resourceToWire(resource: LeaseResource): ResourceOut {
  return { id: resource.id, type: resource.type };
}

export function resourceFromWire(resource: leasesApi.Resource): LeaseResource {
  return { id: resource.id, type: resource.type };
}
