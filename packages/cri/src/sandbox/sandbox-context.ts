import { join } from "node:path";
import type { CriBase } from "../cri-base.js";
import type { KeyedLock } from "./keyed-lock.js";
import type { PodNetworking } from "./pod-networking.js";
import type { SandboxStore } from "./sandbox-store.js";

/** What the pod operations share: the CRI base, the pods, their networking and a per-pod lock. */
export interface SandboxContext {
  readonly base: CriBase;
  readonly store: SandboxStore;
  readonly network: PodNetworking;
  readonly lock: KeyedLock;
}

/** `<cri root>/sandboxes/<id>`: hostname, hosts, resolv.conf, shm and the network state file. */
export const sandboxRootDir = (base: CriBase, id: string): string => join(base.rootDir, "sandboxes", id);
