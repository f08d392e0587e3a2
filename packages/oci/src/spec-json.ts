import { invalidArgument } from "@berth/core";
import type { Spec } from "./runtime-spec.js";

// JSON.rawJSON (Node >= 21) writes an integer beyond 2^53 exactly; TypeScript's es2023 lib lacks it.
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

// Fields the spec requires even when false or "": everything else is left out when empty, as the
// runtime-spec's own Go types (omitempty) write it, so Berth's config.json reads like containerd's.
const KEEP_EMPTY = new Set(["allow", "cwd", "path", "destination", "type", "ociVersion"]);
// Map-valued fields: an empty map is left out too (a struct such as capabilities is kept, as in Go).
const MAP_KEYS = new Set(["annotations", "sysctl", "unified", "rdma", "timeOffsets"]);

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === "") return true;
  if (Array.isArray(value)) return value.length === 0;
  return false;
}

function omitEmpty(key: string, value: unknown): unknown {
  if (typeof value === "bigint") return rawJSON(value.toString());
  if (key !== "" && !KEEP_EMPTY.has(key) && isEmpty(value)) return undefined;
  if (MAP_KEYS.has(key) && typeof value === "object" && Object.keys(value as object).length === 0) return undefined;
  return value;
}

/** The spec as config.json text: empty optional fields left out, 64-bit integers exact. */
export function specToJSON(spec: Spec, indent?: number): string {
  return JSON.stringify(spec, omitEmpty, indent);
}

/**
 * A config.json's spec. Integers beyond 2^53 (an unlimited rlimit, a 64-bit seccomp mask) become
 * bigints rather than silently rounded numbers.
 */
export function parseSpec(text: string): Spec {
  const spec: unknown = JSON.parse(text, function (this: unknown, _key: string, value: unknown, context?: { source?: string }) {
    if (typeof value === "number" && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source)) {
      return BigInt(context.source);
    }
    return value;
  } as (this: unknown, key: string, value: unknown) => unknown);
  if (!spec || typeof spec !== "object" || typeof (spec as { ociVersion?: unknown }).ociVersion !== "string") {
    throw invalidArgument("not an OCI runtime spec: no ociVersion");
  }
  return spec as Spec;
}
