import type { ContainerController } from "./container-controller.js";
import type { NetworkReadiness } from "./network-readiness.js";
import type { SandboxController, SandboxLookup } from "./sandbox-controller.js";

/** What src/sandbox/ builds: the pod RPCs, pod lookups for containers, and network readiness. */
export interface SandboxPart {
  readonly controller: SandboxController;
  readonly lookup: SandboxLookup;
  /** Replaces the default readiness (a CNI config file exists) when given. */
  readonly network?: NetworkReadiness;
  /** Rebuilds in-memory state from metadata after a restart; runs before the containers'. */
  recover?(): Promise<void>;
  close?(): Promise<void>;
}

/** What src/container/ builds. */
export interface ContainerPart {
  readonly controller: ContainerController;
  /** Runs after the sandboxes recovered. */
  recover?(): Promise<void>;
  close?(): Promise<void>;
}
