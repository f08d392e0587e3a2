import { packAny, runcOptions } from "@berth/api";
import type { TypedValue } from "@berth/core";
import type { RuntimeHandlerConfig } from "../config/cri-config.js";

/** Shims that read containerd.runc.v1.Options. */
const RUNC_SHIMS = new Set(["io.containerd.runc.v2", "io.containerd.runc.v1", "io.containerd.berth.v2"]);

/**
 * A runtime handler's `options` table as its shim takes it. For runc shims that is
 * containerd.runc.v1.Options, whose TOML keys are the Go field names (`SystemdCgroup`,
 * `BinaryName`, …); other shims get nothing, as their option types are unknown here.
 */
export function runtimeOptionsFor(handler: RuntimeHandlerConfig): TypedValue | undefined {
  if (!RUNC_SHIMS.has(handler.runtimeType)) return undefined;
  const known = new Set(runcOptions.OptionsSchema.fields.map((f) => f.localName));
  const message: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(handler.options)) {
    const local = key.charAt(0).toLowerCase() + key.slice(1);
    // Go's initialisms: IoUid → ioUid works by the rule above; CriuImagePath likewise.
    if (known.has(local)) message[local] = value;
  }
  return packAny(runcOptions.OptionsSchema, message);
}
