import { notFound } from "@berth/core";
import type { CriBase } from "../cri-base.js";
import type { SandboxPart } from "../runtime/parts.js";
import { unimplementedSandboxController } from "../runtime/unimplemented.js";

/**
 * Pod sandboxes. Placeholder until the sandbox part lands: every pod RPC answers
 * Unimplemented and no sandbox exists.
 */
export function createSandboxPart(_base: CriBase): SandboxPart {
  return {
    controller: unimplementedSandboxController(),
    lookup: {
      sandbox: (id) => {
        throw notFound(`sandbox "${id}" not found`);
      },
    },
  };
}
