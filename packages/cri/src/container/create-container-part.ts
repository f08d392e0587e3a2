import type { CriBase } from "../cri-base.js";
import type { ContainerPart } from "../runtime/parts.js";
import type { SandboxLookup } from "../runtime/sandbox-controller.js";
import { unimplementedContainerController } from "../runtime/unimplemented.js";

/** Containers in pods. Placeholder until the container part lands: every container RPC answers Unimplemented. */
export function createContainerPart(_base: CriBase, _sandboxes: SandboxLookup): ContainerPart {
  return { controller: unimplementedContainerController() };
}
