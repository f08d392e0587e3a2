import { readFile } from "node:fs/promises";
import { join } from "node:path";

/** The parts of a bundle's config.json (the OCI runtime spec) the shim reads. */
interface BundleSpec {
  readonly annotations?: Record<string, string>;
  readonly linux?: { readonly namespaces?: readonly { readonly type?: string; readonly path?: string }[] };
}

export async function readBundleSpec(bundle: string): Promise<BundleSpec | undefined> {
  try {
    return JSON.parse(await readFile(join(bundle, "config.json"), "utf8")) as BundleSpec;
  } catch {
    return undefined;
  }
}

/**
 * Whether the shim must kill everything left in the container when its init exits: yes unless
 * the container has a PID namespace of its own, where the kernel does it (containerd's
 * ShouldKillAllOnExit; an unreadable spec counts as shared, the safe side).
 */
export function killAllOnInitExit(spec: BundleSpec | undefined): boolean {
  const namespaces = spec?.linux?.namespaces;
  if (!namespaces) return true;
  return !namespaces.some((ns) => ns.type === "pid" && (ns.path ?? "") === "");
}
