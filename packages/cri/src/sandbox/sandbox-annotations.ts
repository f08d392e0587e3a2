import type { criApi } from "@berth/api";

/**
 * The annotations containerd's CRI puts on OCI specs, which shims, NRI plugins and runtimes
 * such as Kata read to tell sandboxes from containers and find their pod.
 */
export const CONTAINER_TYPE_ANNOTATION = "io.kubernetes.cri.container-type";
export const CONTAINER_TYPE_SANDBOX = "sandbox";
export const SANDBOX_ID_ANNOTATION = "io.kubernetes.cri.sandbox-id";
export const SANDBOX_NAMESPACE_ANNOTATION = "io.kubernetes.cri.sandbox-namespace";
export const SANDBOX_UID_ANNOTATION = "io.kubernetes.cri.sandbox-uid";
export const SANDBOX_NAME_ANNOTATION = "io.kubernetes.cri.sandbox-name";
export const SANDBOX_LOG_DIR_ANNOTATION = "io.kubernetes.cri.sandbox-log-directory";
export const SANDBOX_IMAGE_NAME_ANNOTATION = "io.kubernetes.cri.podsandbox.image-name";
export const SANDBOX_CPU_PERIOD_ANNOTATION = "io.kubernetes.cri.sandbox-cpu-period";
export const SANDBOX_CPU_QUOTA_ANNOTATION = "io.kubernetes.cri.sandbox-cpu-quota";
export const SANDBOX_CPU_SHARES_ANNOTATION = "io.kubernetes.cri.sandbox-cpu-shares";
export const SANDBOX_MEMORY_ANNOTATION = "io.kubernetes.cri.sandbox-memory";

/** The pause container's identity annotations. */
export function sandboxSpecAnnotations(id: string, image: string, config: criApi.PodSandboxConfig): Record<string, string> {
  const meta = config.metadata;
  const out: Record<string, string> = {
    [SANDBOX_ID_ANNOTATION]: id,
    [SANDBOX_NAMESPACE_ANNOTATION]: meta?.namespace ?? "",
    [SANDBOX_UID_ANNOTATION]: meta?.uid ?? "",
    [SANDBOX_NAME_ANNOTATION]: meta?.name ?? "",
    [SANDBOX_LOG_DIR_ANNOTATION]: config.logDirectory,
    [SANDBOX_IMAGE_NAME_ANNOTATION]: image,
    [CONTAINER_TYPE_ANNOTATION]: CONTAINER_TYPE_SANDBOX,
  };
  const res = config.linux?.resources;
  if (res !== undefined) {
    out[SANDBOX_CPU_PERIOD_ANNOTATION] = String(res.cpuPeriod);
    out[SANDBOX_CPU_QUOTA_ANNOTATION] = String(res.cpuQuota);
    out[SANDBOX_CPU_SHARES_ANNOTATION] = String(res.cpuShares);
    out[SANDBOX_MEMORY_ANNOTATION] = String(res.memoryLimitInBytes);
  }
  return out;
}

/**
 * The pod annotations a runtime handler lets through to the spec (`pod_annotations`: exact
 * keys or `*` globs), so a runtime can be tuned per pod.
 */
export function passthroughAnnotations(annotations: Readonly<Record<string, string>>, patterns: readonly string[]): Record<string, string> {
  const matchers = patterns.map((p) => new RegExp(`^${p.split("*").map(escapeRegExp).join(".*")}$`));
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(annotations)) {
    if (matchers.some((m) => m.test(key))) out[key] = value;
  }
  return out;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
