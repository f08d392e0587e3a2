import { join } from "node:path";
import { sha256Hex } from "./sha256.js";

/**
 * Annotations that put a container in a group served by one shim, in order of precedence:
 * Berth's own, the one containerd's runc shim reads, and the CRI pod sandbox id (containerd
 * groups a pod's containers by it).
 */
export const GROUP_ANNOTATIONS = ["io.containerd.berth.v2.group", "io.containerd.runc.v2.group", "io.kubernetes.cri.sandbox-id"] as const;

/**
 * BERTH_SHIM_GROUP sets the grouping of containers that name no group: `namespace` (the
 * default: one shim for every container of a namespace and daemon — the least memory per
 * container, and no new process for a namespace's next container) or `container`
 * (containerd's runc shim's behaviour: one shim per container, the most isolation).
 */
export const GROUP_ENV = "BERTH_SHIM_GROUP";
export type GroupMode = "container" | "namespace";

export function groupMode(env: NodeJS.ProcessEnv): GroupMode {
  const value = (env[GROUP_ENV] ?? "").trim().toLowerCase();
  if (value === "" || value === "namespace") return "namespace";
  if (value === "container") return "container";
  throw new Error(`${GROUP_ENV}=${value}: expected "container" or "namespace"`);
}

/** The group a container joins: an annotated group, or per `mode` its own id or its namespace's. */
export function shimGroup(containerId: string, annotations: Readonly<Record<string, string>> | undefined, mode: GroupMode): string {
  for (const key of GROUP_ANNOTATIONS) {
    const value = annotations?.[key];
    if (value !== undefined && value !== "") return value;
  }
  // A key no container id can equal (ids are [A-Za-z0-9_.-]), so the namespace group never
  // collides with a container's own.
  return mode === "namespace" ? "@namespace" : containerId;
}

/** Where sockets live unless BERTH_SHIM_SOCKET_DIR says otherwise: containerd's own place. */
export const DEFAULT_SOCKET_DIR = "/run/containerd/s";

/**
 * The group's socket, as containerd derives it: a hash of the daemon's address, the namespace
 * and the group, so each daemon, namespace and group gets its own shim.
 */
export function shimSocketAddress(daemonAddress: string, namespace: string, group: string, socketDir = DEFAULT_SOCKET_DIR): string {
  return `unix://${join(socketDir, sha256Hex(join(daemonAddress, namespace, group)))}`;
}
