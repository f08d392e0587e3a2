import { lstat, readdir } from "node:fs/promises";
import { join, posix } from "node:path";
import { invalidArgument, notFound } from "@berth/core";
import type { LinuxDevice } from "./runtime-spec.js";

const S_IFMT = 0o170000n;
const S_IFBLK = 0o060000n;
const S_IFCHR = 0o020000n;
const S_IFIFO = 0o010000n;

/** Linux's dev_t split (glibc's gnu_dev_major/minor): 12 bits of major, 20 of minor, interleaved. */
export function splitDeviceNumber(dev: bigint): { major: number; minor: number } {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

/**
 * The device node at `path` as a spec device (not following a symlink), or undefined when `path`
 * is no device: a FIFO counts as one ("p"), as in containerd.
 */
export async function deviceFromPath(path: string): Promise<LinuxDevice | undefined> {
  const st = await lstat(path, { bigint: true });
  const kind = st.mode & S_IFMT;
  const type = kind === S_IFBLK ? "b" : kind === S_IFCHR ? "c" : kind === S_IFIFO ? "p" : undefined;
  if (type === undefined) return undefined;
  return {
    path,
    type,
    ...splitDeviceNumber(st.rdev),
    fileMode: Number(st.mode & ~S_IFMT),
    uid: Number(st.uid),
    gid: Number(st.gid),
  };
}

// Directories of /dev that hold no devices a container should get, or whole other mounts.
const SKIPPED_DIRS = new Set(["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"]);

/**
 * The block and character devices under `path` (a directory, walked recursively, or one device),
 * renamed under `containerPath` when given. The console and FIFOs are left out of directories.
 */
export async function devicesAt(path: string, containerPath?: string): Promise<LinuxDevice[]> {
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    throw notFound(`device path ${path}: ${(err as Error).message}`, err);
  }
  if (!st.isDirectory()) {
    const dev = await deviceFromPath(path);
    if (!dev) throw invalidArgument(`${path} is not a device node`);
    if (containerPath) dev.path = containerPath;
    return [dev];
  }
  const out: LinuxDevice[] = [];
  // Sorted by name, as containerd lists them, so both produce the same spec.
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = join(path, entry.name);
    const inContainer = containerPath ? posix.join(containerPath, entry.name) : undefined;
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) out.push(...(await devicesAt(full, inContainer)));
      continue;
    }
    if (entry.name === "console") continue;
    let dev: LinuxDevice | undefined;
    try {
      dev = await deviceFromPath(full);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue; // gone since readdir
      throw err;
    }
    if (!dev || dev.type === "p") continue;
    if (inContainer) dev.path = inContainer;
    out.push(dev);
  }
  return out;
}
