/**
 * containerd's `containerd.io/distribution.source.<registry host>` content label: the
 * repositories of that registry a blob was pulled from, comma-separated and sorted. A push to
 * the same registry offers them for a cross-repository mount instead of an upload.
 */
export const DISTRIBUTION_SOURCE_PREFIX = "containerd.io/distribution.source.";

/** Where a registry image lives: the host as written in its reference (with port) and the repository path. */
export interface ImageOrigin {
  readonly registry: string;
  readonly repository: string;
}

export function distributionSourceKey(registry: string): string {
  return `${DISTRIBUTION_SOURCE_PREFIX}${registry}`;
}

/** The label value with `repository` added; undefined when it is already listed. */
export function withRepository(existing: string | undefined, repository: string): string | undefined {
  const repos = existing === undefined || existing === "" ? [] : existing.split(",");
  if (repos.includes(repository)) return undefined;
  return [...repos, repository].sort().join(",");
}

/** The distribution-source labels among `labels`, as descriptor annotations for a pusher. */
export function distributionSourceAnnotations(labels: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([k]) => k.startsWith(DISTRIBUTION_SOURCE_PREFIX)));
}
