import { invalidArgument } from "@berth/core";

/**
 * String maps (labels, annotations) as stored: a list of [key, value] pairs. Not objects, because
 * msgpack decoding rewrites a key named "__proto__", and labels are arbitrary client strings.
 */
export type Pairs<V = string> = [string, V][];

/** Stored form; empty values are dropped (an empty label means "unset", as in containerd). */
export function toPairs(map: Readonly<Record<string, string>> | undefined): Pairs {
  return Object.entries(map ?? {}).filter(([, v]) => v !== "");
}

/** Stored form of a map whose values are kept as they are (container extensions). */
export function toValuePairs<V>(map: Readonly<Record<string, V>> | undefined): Pairs<V> {
  return Object.entries(map ?? {});
}

/** Fresh object; fromEntries defines own properties, so "__proto__" stays an ordinary key. */
export function fromPairs<V>(pairs: Pairs<V> | undefined): Record<string, V> {
  return Object.fromEntries(pairs ?? []) as Record<string, V>;
}

/** The value of own key `key`, never an inherited property. */
export function ownValue<V>(map: Readonly<Record<string, V>> | undefined, key: string): V | undefined {
  return map !== undefined && Object.hasOwn(map, key) ? map[key] : undefined;
}

/** `map` with `key` set to `value`, or removed when `value` is undefined or "". */
export function withKey<V>(map: Readonly<Record<string, V>>, key: string, value: V | undefined): Record<string, V> {
  const rest = Object.entries(map).filter(([k]) => k !== key);
  if (value !== undefined && value !== "") rest.push([key, value]);
  return Object.fromEntries(rest) as Record<string, V>;
}

/**
 * Applies a "labels" / "labels.<key>" fieldpath to a label map, as containerd's update masks:
 * "labels" replaces the whole map, "labels.<key>" copies one key from `incoming` (its absence
 * deletes it). Returns undefined when `path` is not about labels.
 */
export function applyLabelPath(
  path: string,
  current: Readonly<Record<string, string>>,
  incoming: Readonly<Record<string, string>> | undefined,
): Record<string, string> | undefined {
  if (path === "labels") return fromPairs(toPairs(incoming));
  if (path.startsWith("labels.")) {
    const key = path.slice("labels.".length);
    if (key === "") throw invalidArgument(`fieldpath ${JSON.stringify(path)} names no label`);
    return withKey(current, key, ownValue(incoming, key));
  }
  return undefined;
}
