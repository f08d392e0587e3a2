import { notImplemented } from "@berth/core";
import { CONTAINER_METHODS, type ContainerController } from "./container-controller.js";
import { SANDBOX_METHODS, type SandboxController } from "./sandbox-controller.js";

/** Handlers that answer gRPC Unimplemented, naming the RPC: the parts not built yet. */
function unimplemented<K extends string>(methods: readonly K[], part: string): Record<K, () => never> {
  const out = {} as Record<K, () => never>;
  for (const m of methods) {
    out[m] = () => {
      throw notImplemented(`cri: ${m} is not implemented yet (${part})`);
    };
  }
  return out;
}

export function unimplementedSandboxController(): SandboxController {
  return unimplemented(SANDBOX_METHODS, "pod sandboxes") as unknown as SandboxController;
}

export function unimplementedContainerController(): ContainerController {
  return unimplemented(CONTAINER_METHODS, "containers") as unknown as ContainerController;
}
