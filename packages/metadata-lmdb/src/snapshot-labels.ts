/**
 * Which of a snapshot's labels the backend sees. Labels live in metadata; a backend only gets
 * the ones meant for it, as containerd passes them: `containerd.io/snapshot/…` (diff-id,
 * uid/gid mappings, size hints) and `containerd.io/snapshot.ref` (a remote snapshotter's target).
 */
export const SNAPSHOT_REF_LABEL = "containerd.io/snapshot.ref";
const INHERITED_PREFIX = "containerd.io/snapshot/";

export const isInheritedLabel = (key: string): boolean => key === SNAPSHOT_REF_LABEL || key.startsWith(INHERITED_PREFIX);

export function inheritedLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([k]) => isInheritedLabel(k)));
}

/** The inherited label keys whose values differ between `before` and `after` (absent counts as a value). */
export function changedInheritedKeys(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)].filter(isInheritedLabel));
  return [...keys].filter((k) => (Object.hasOwn(before, k) ? before[k] : undefined) !== (Object.hasOwn(after, k) ? after[k] : undefined));
}
