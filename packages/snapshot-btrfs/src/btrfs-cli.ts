import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { failedPrecondition, internal } from "@berth/core";

const run = promisify(execFile);

/**
 * The btrfs-progs commands the snapshotter needs. Node has no ioctl access, and the CLI is what
 * administrators use and trust; each call is one short-lived process.
 */
async function btrfs(args: readonly string[], signal?: AbortSignal): Promise<string> {
  try {
    const { stdout } = await run("btrfs", args, signal ? { signal } : {});
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT") throw failedPrecondition("the btrfs command is missing: install btrfs-progs", err);
    throw internal(`btrfs ${args.join(" ")}: ${e.stderr?.trim() || e.message}`, err);
  }
}

/** btrfs-progs' version line, e.g. "btrfs-progs v6.2"; FailedPrecondition when it is not installed. */
export const btrfsVersion = async (): Promise<string> => (await btrfs(["--version"])).trim();

export const createSubvolume = (path: string): Promise<unknown> => btrfs(["subvolume", "create", path]);

/** A snapshot of subvolume `source` at `target`, read-only or writable. */
export const snapshotSubvolume = (source: string, target: string, readOnly: boolean): Promise<unknown> =>
  btrfs(["subvolume", "snapshot", ...(readOnly ? ["-r"] : []), source, target]);

export const deleteSubvolume = (path: string): Promise<unknown> => btrfs(["subvolume", "delete", path]);

export const setReadOnly = (path: string): Promise<unknown> => btrfs(["property", "set", "-ts", path, "ro", "true"]);

/** A subvolume's root directory always has inode 256 (BTRFS_FIRST_FREE_OBJECTID). */
export const SUBVOLUME_ROOT_INODE = 256;
