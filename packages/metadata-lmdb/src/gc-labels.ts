import type { Pairs } from "./maps.js";

/**
 * The labels containerd's collector reads. Reference labels point from the labelled object to
 * others in the same namespace: `containerd.io/gc.ref.content` (alone, or followed by `.name`
 * or `/name` so that one object can hold several), `containerd.io/gc.ref.image` likewise, and
 * `containerd.io/gc.ref.snapshot.<snapshotter>` (optionally `/name`), whose value is a snapshot key.
 */
export const GC_ROOT_LABEL = "containerd.io/gc.root";
export const GC_EXPIRE_LABEL = "containerd.io/gc.expire";
/** On a lease: it holds its resources only, not what they reference. */
export const GC_FLAT_LABEL = "containerd.io/gc.flat";

const CONTENT_REF = "containerd.io/gc.ref.content";
const IMAGE_REF = "containerd.io/gc.ref.image";
const SNAPSHOT_REF = "containerd.io/gc.ref.snapshot.";

export type LabelRef =
  | { readonly kind: "content"; readonly key: string }
  | { readonly kind: "image"; readonly key: string }
  | { readonly kind: "snapshot"; readonly snapshotter: string; readonly key: string };

/** `key` is `base` itself, or `base` followed by a "." or "/" and a name. */
function namedAfter(key: string, base: string): boolean {
  if (!key.startsWith(base)) return false;
  const next = key[base.length];
  return next === undefined || next === "." || next === "/";
}

/** The references `labels` make, in label order. */
export function labelRefs(labels: Pairs): LabelRef[] {
  const refs: LabelRef[] = [];
  for (const [key, value] of labels) {
    if (!key.startsWith("containerd.io/gc.ref.")) continue;
    if (namedAfter(key, CONTENT_REF)) refs.push({ kind: "content", key: value });
    else if (namedAfter(key, IMAGE_REF)) refs.push({ kind: "image", key: value });
    else if (key.startsWith(SNAPSHOT_REF)) {
      const rest = key.slice(SNAPSHOT_REF.length);
      const slash = rest.indexOf("/");
      const snapshotter = slash < 0 ? rest : rest.slice(0, slash);
      if (snapshotter !== "") refs.push({ kind: "snapshot", snapshotter, key: value });
    }
  }
  return refs;
}

export function labelValue(labels: Pairs, key: string): string | undefined {
  for (const [k, v] of labels) if (k === key) return v;
  return undefined;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** The instant `containerd.io/gc.expire` names, or undefined when absent or not RFC 3339 (then it is ignored, as containerd does). */
export function expiry(labels: Pairs): number | undefined {
  const value = labelValue(labels, GC_EXPIRE_LABEL);
  if (value === undefined || !RFC3339.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : at;
}

/** Whether the expiry label names a time before `now`. */
export function hasExpired(labels: Pairs, now: number): boolean {
  const at = expiry(labels);
  return at !== undefined && at < now;
}

/**
 * Content and snapshots that are roots by their own labels: `containerd.io/gc.root`, or a
 * `containerd.io/gc.expire` still in the future (containerd documents the latter for
 * non-root objects; Berth applies it).
 */
export function isLabelledRoot(labels: Pairs, now: number): boolean {
  if (labelValue(labels, GC_ROOT_LABEL) !== undefined) return true;
  const at = expiry(labels);
  return at !== undefined && at >= now;
}
