import { readdir, rmdir } from "node:fs/promises";
import { join } from "node:path";

/**
 * runc leaves the parents it made for a namespace: `/sys/fs/cgroup/<controller>/<namespace>`
 * (containers get `/<namespace>/<id>`) and the runc root `/run/containerd/runc/<namespace>`.
 * containerd never removes them either; a test's namespace of its own should not outlive it.
 * rmdir only: a directory still in use stays.
 */
export async function removeNamespaceTraces(namespace: string): Promise<void> {
  for (const controller of await readdir("/sys/fs/cgroup").catch(() => [])) {
    await rmdir(join("/sys/fs/cgroup", controller, namespace)).catch(() => undefined);
  }
  await rmdir(join("/run/containerd/runc", namespace)).catch(() => undefined);
}
