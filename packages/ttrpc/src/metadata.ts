/**
 * ttrpc metadata: a list of key/value pairs on each request, a key repeated for several
 * values. Keys are lower-cased on both ends, as Go's ttrpc.MD does when setting and looking up.
 */

/** The metadata key containerd uses to carry the namespace over ttrpc (namespaces/ttrpc.go). */
export const TTRPC_NAMESPACE_HEADER = "containerd-namespace-ttrpc";

/** Metadata as callers give it: one value or several per key. */
export type TtrpcMetadataInit = Readonly<Record<string, string | readonly string[]>>;

export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

/**
 * Merges metadata layers (later layers replace a key's values, as MD.Set does) into the
 * wire's list of pairs.
 */
export function toKeyValues(...layers: (TtrpcMetadataInit | undefined)[]): KeyValue[] {
  const merged = new Map<string, readonly string[]>();
  for (const layer of layers) {
    if (!layer) continue;
    for (const [key, value] of Object.entries(layer)) merged.set(key.toLowerCase(), typeof value === "string" ? [value] : value);
  }
  const pairs: KeyValue[] = [];
  for (const [key, values] of merged) for (const value of values) pairs.push({ key, value });
  return pairs;
}

/** The wire's pairs as a map from lower-cased key to its values, in the order sent. */
export function fromKeyValues(pairs: readonly KeyValue[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const { key, value } of pairs) {
    const k = key.toLowerCase();
    const values = map.get(k);
    if (values) values.push(value);
    else map.set(k, [value]);
  }
  return map;
}
