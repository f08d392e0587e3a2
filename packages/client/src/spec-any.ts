import { invalidArgument } from "@berth/core";
import { parseSpec, specToJSON, type Process, type Spec } from "@berth/oci";

/**
 * The type URL containerd gives a runtime spec in a container record: the spec travels as its
 * JSON inside a google.protobuf.Any, so every client (ctr, nerdctl, the CRI) can read it.
 */
export const SPEC_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/Spec";

export function packSpec(spec: Spec): { typeUrl: string; value: Uint8Array } {
  return { typeUrl: SPEC_TYPE_URL, value: Buffer.from(specToJSON(spec)) };
}

export function unpackSpec(any: { typeUrl: string; value: Uint8Array } | undefined, what: string): Spec {
  if (!any || any.value.byteLength === 0) throw invalidArgument(`${what} has no runtime spec`);
  if (!any.typeUrl.endsWith("opencontainers/runtime-spec/1/Spec")) throw invalidArgument(`${what}: spec has type ${any.typeUrl}, not an OCI runtime spec`);
  return parseSpec(Buffer.from(any.value.buffer, any.value.byteOffset, any.value.byteLength).toString("utf8"));
}

/** The type URL of a process spec in an Exec request. */
export const PROCESS_SPEC_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/Process";

/** A process spec as Exec carries it: JSON as config.json writes its process (omitempty, exact 64-bit rlimits). */
export function packProcessSpec(process: Process): { typeUrl: string; value: Uint8Array } {
  // specToJSON's rules are per field name, so they apply to the process section on its own too.
  return { typeUrl: PROCESS_SPEC_TYPE_URL, value: Buffer.from(specToJSON(process as unknown as Spec)) };
}
