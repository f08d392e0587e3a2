import type { criApi } from "@berth/api";
import type { TypedValue } from "@berth/core";
import type { SandboxNamespaces } from "../runtime/sandbox-controller.js";

/**
 * One pod as the sandbox part keeps it in memory. The fixed part is decided by RunPodSandbox
 * and saved (container extension and state file); `status` changes with the pause task.
 */
export interface PodSandbox {
  readonly id: string;
  /** The reserved name, `<name>_<namespace>_<uid>_<attempt>`. */
  readonly name: string;
  readonly config: criApi.PodSandboxConfig;
  readonly runtimeHandler: string;
  readonly runtimeType: string;
  readonly runtimeOptions: TypedValue | undefined;
  /** The sandbox image's normalised name, as the pause container's record names it. */
  readonly image: string;
  readonly snapshotter: string;
  readonly rootDir: string;
  readonly namespaces: SandboxNamespaces;
  readonly cgroupParent: string;
  readonly createdAt: Date;
  /** "" for host-network pods. */
  netnsPath: string;
  ips: string[];
  /** True once CNI teardown and netns removal succeeded (always for host-network pods). */
  networkReleased: boolean;
  status: SandboxStatus;
}

export interface SandboxStatus {
  readonly state: "ready" | "notready" | "unknown";
  /** The pause process; 0 when it is not running. */
  readonly pid: number;
}

/** Paths inside a pod's root directory. */
export function podFiles(rootDir: string, namespaces: SandboxNamespaces) {
  return {
    hostnamePath: `${rootDir}/hostname`,
    hostsPath: `${rootDir}/hosts`,
    resolvConfPath: `${rootDir}/resolv.conf`,
    shmPath: namespaces.ipc === "node" ? "/dev/shm" : `${rootDir}/shm`,
    stateFile: `${rootDir}/sandbox.json`,
  };
}
