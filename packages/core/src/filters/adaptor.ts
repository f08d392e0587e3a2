/**
 * For adaptors: the value of a label named by the rest of a field path after "labels", its parts
 * joined with ".". So `labels.a.b` and `labels."a.b"` both name the label "a.b", as in containerd.
 * Only the map's own keys count ("constructor" and the like are never labels).
 */
export function lookupLabel(
  labels: Readonly<Record<string, string>> | undefined,
  rest: readonly string[],
): string | undefined {
  if (labels === undefined || labels === null) return undefined;
  const key = rest.join(".");
  if (!Object.hasOwn(labels, key)) return undefined;
  const value: unknown = labels[key];
  return typeof value === "string" ? value : undefined;
}
