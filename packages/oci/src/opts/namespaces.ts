import { invalidArgument } from "@berth/core";
import { namespacedCgroupsPath } from "../default-spec.js";
import type { LinuxIdMapping, LinuxNamespace, LinuxNamespaceType } from "../runtime-spec.js";
import { linuxOf } from "../spec-parts.js";
import type { SpecOpt } from "../spec-opt.js";

/** Shares the host's `type` namespace: the container gets no namespace of its own of that type. */
export function withHostNamespace(type: LinuxNamespaceType): SpecOpt {
  return (spec) => {
    const linux = linuxOf(spec);
    linux.namespaces = (linux.namespaces ?? []).filter((ns) => ns.type !== type);
  };
}

/** Uses `ns` (e.g. joining an existing one by path), replacing any namespace of the same type. */
export function withLinuxNamespace(ns: LinuxNamespace): SpecOpt {
  return (spec) => {
    const linux = linuxOf(spec);
    const namespaces = (linux.namespaces ??= []);
    const at = namespaces.findIndex((n) => n.type === ns.type);
    if (at >= 0) namespaces[at] = { ...ns };
    else namespaces.push({ ...ns });
  };
}

/**
 * Runs the container in a new user namespace with these id mappings, added to any already set
 * (call it again for more ranges).
 */
export function withUserNamespace(uidMappings: readonly LinuxIdMapping[], gidMappings: readonly LinuxIdMapping[]): SpecOpt {
  for (const m of [...uidMappings, ...gidMappings]) {
    if (m.size < 1) throw invalidArgument(`id mapping ${m.containerID}:${m.hostID}:${m.size} maps no ids`);
  }
  return (spec) => {
    const linux = linuxOf(spec);
    const namespaces = (linux.namespaces ??= []);
    if (!namespaces.some((ns) => ns.type === "user")) namespaces.push({ type: "user" });
    linux.uidMappings = [...(linux.uidMappings ?? []), ...uidMappings.map((m) => ({ ...m }))];
    linux.gidMappings = [...(linux.gidMappings ?? []), ...gidMappings.map((m) => ({ ...m }))];
  };
}

/** Sets the cgroup path; "" leaves the container in the runtime's own cgroup. */
export function withCgroup(path: string): SpecOpt {
  return (spec) => {
    linuxOf(spec).cgroupsPath = path;
  };
}

/** `/<namespace>/<id>` from the context, as the default spec sets it. */
export const withNamespacedCgroup: SpecOpt = (spec, ctx) => {
  linuxOf(spec).cgroupsPath = namespacedCgroupsPath(ctx.namespace, ctx.id);
};
