// containerd.services.namespaces.v1 messages <-> core's Namespace record.
import type { namespacesApi } from "@berth/api";
import type { Namespace } from "@berth/core";
import type { MessageInitShape } from "@bufbuild/protobuf";

export type NamespaceOut = MessageInitShape<typeof namespacesApi.NamespaceSchema>;

export function namespaceToWire(ns: Namespace): NamespaceOut {
  return { name: ns.name, labels: { ...ns.labels } };
}

export function namespaceFromWire(ns: namespacesApi.Namespace): Namespace {
  return { name: ns.name, labels: { ...ns.labels } };
}
