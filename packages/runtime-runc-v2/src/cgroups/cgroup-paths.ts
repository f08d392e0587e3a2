import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const CGROUP_ROOT = "/sys/fs/cgroup";

/** A container's cgroup: one directory per controller (v1) or one directory (v2, unified). */
export type ContainerCgroup =
  | { readonly version: 1; readonly dirs: ReadonlyMap<string, string> }
  | { readonly version: 2; readonly dir: string };

/** True when /sys/fs/cgroup is cgroup v2 alone (no v1 hierarchies). */
export function isUnifiedHierarchy(): boolean {
  return existsSync(join(CGROUP_ROOT, "cgroup.controllers"));
}

/**
 * The cgroup `pid` belongs to, from /proc/PID/cgroup, resolved to directories under
 * /sys/fs/cgroup. Read once, while the container's init runs: the directories outlive it (stats
 * and OOM watching keep working after it exited) and /proc/PID does not.
 */
export function cgroupOfPid(pid: number): ContainerCgroup | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, "utf8");
  } catch {
    return undefined;
  }
  const lines = text.split("\n").filter((line) => line !== "");
  if (isUnifiedHierarchy()) {
    const unified = lines.find((line) => line.startsWith("0::"));
    return unified === undefined ? undefined : { version: 2, dir: join(CGROUP_ROOT, unified.slice(3)) };
  }
  const dirs = new Map<string, string>();
  for (const line of lines) {
    const parts = splitLine(line);
    if (!parts) continue;
    const [, controllers, path] = parts;
    // The unified line (0::) of a hybrid host and named hierarchies (name=systemd) hold no
    // controller the metrics read.
    if (controllers === "" || controllers.startsWith("name=")) continue;
    const dir = join(CGROUP_ROOT, controllers, path);
    for (const controller of controllers.split(",")) dirs.set(controller, dir);
  }
  return dirs.size === 0 ? undefined : { version: 1, dirs };
}

// "4:cpu,cpuacct:/a:b" — the path itself may hold colons.
function splitLine(line: string): [string, string, string] | undefined {
  const first = line.indexOf(":");
  const second = line.indexOf(":", first + 1);
  if (first < 0 || second < 0) return undefined;
  return [line.slice(0, first), line.slice(first + 1, second), line.slice(second + 1)];
}
