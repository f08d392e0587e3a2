import { randomUUID } from "node:crypto";
import { mkdir, open, rm, statfs } from "node:fs/promises";
import { join } from "node:path";
import { internal, invalidArgument } from "@berth/core";
import { MNT_DETACH, describeExit, runProgram, umount2 } from "@berth/native";

/** Where containerd pins pod network namespaces, and so where `ip netns` and tools look. */
export const DEFAULT_NETNS_DIR = "/var/run/netns";

// statfs(2) f_type of the nsfs pseudo filesystem: a pinned namespace is a bind mount of it.
const NSFS_MAGIC = 0x6e736673;

/** A network namespace kept alive by a bind mount at `path`, independent of any process. */
export interface Netns {
  readonly path: string;
}

/**
 * Creates an empty network namespace (only `lo`, down) pinned at `<dir>/cni-<uuid>`.
 * util-linux `unshare --net=<file>` does the unshare in a short-lived child and bind-mounts its
 * namespace onto the file, so no thread of this process ever changes namespace.
 */
export async function createNetns(dir: string = DEFAULT_NETNS_DIR): Promise<Netns> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const path = join(dir, `cni-${randomUUID()}`);
  // The mount point must exist; O_EXCL makes a name clash an error rather than a shared netns.
  await (await open(path, "wx", 0o444)).close();
  // runProgram starts it with vfork: child_process's fork copied the daemon's page tables on
  // the main thread, ~5 ms of every RunPodSandbox in berthd's profile.
  let failure: string | undefined;
  let cause: unknown;
  try {
    const result = await runProgram("unshare", ["unshare", `--net=${path}`, "true"]);
    if (!result.exit.exited || result.exit.exitCode !== 0) failure = result.stderr.toString("utf8").trim() || `unshare: ${describeExit(result.exit)}`;
  } catch (err) {
    cause = err;
    failure = (err as NodeJS.ErrnoException).code === "ENOENT" ? "unshare (util-linux) is not installed" : String((err as Error).message ?? err);
  }
  if (failure !== undefined) {
    await rm(path, { force: true });
    throw internal(`create network namespace at ${path}: ${failure}`, cause);
  }
  return { path };
}

/**
 * Unpins and deletes a network namespace file. Idempotent: a path that is gone, or a file no
 * longer pinned, is simply removed. The namespace itself dies with its last user.
 */
export async function removeNetns(path: string): Promise<void> {
  if (path === "") throw invalidArgument("remove network namespace: empty path");
  // Unmount until nothing is stacked there: a racing double pin would otherwise leak one.
  for (let i = 0; i < 8 && (await isPinnedNetns(path)); i++) {
    try {
      umount2(path, MNT_DETACH);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EINVAL" || code === "ENOENT") break;
      throw internal(`unmount network namespace ${path}`, err);
    }
  }
  await rm(path, { force: true });
}

/** Whether `path` currently pins a namespace (a bind mount of nsfs), as opposed to a plain file. */
export async function isPinnedNetns(path: string): Promise<boolean> {
  try {
    return (await statfs(path)).type === NSFS_MAGIC;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

