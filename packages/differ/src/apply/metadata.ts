import { lutimesSync } from "node:fs";
import { lgetxattr, llistxattr, lsetxattr, lutimesNs, type SystemError } from "@berth/native";
import type { TarEntry, TarTime } from "../tar/tar-entry.js";

const EPOCH: TarTime = { sec: 0, nsec: 0 };

/** As containerd: times before 1970 become 1970 (the epoch is the floor it sets). */
export function boundTime(t: TarTime): TarTime {
  return t.sec < 0 ? EPOCH : t;
}

export function modTimeOf(entry: TarEntry): TarTime {
  return boundTime(entry.mtime);
}

/** containerd's rule: atime is the later of the two, so an archive without atime gets mtime. */
export function accessTimeOf(entry: TarEntry): TarTime {
  const a = entry.atime;
  const m = entry.mtime;
  if (!a) return boundTime(m);
  return boundTime(a.sec > m.sec || (a.sec === m.sec && a.nsec > m.nsec) ? a : m);
}

/** Sets both times without following a symlink; whole seconds through Node, exact ns otherwise. */
export function setTimes(path: Buffer, atime: TarTime, mtime: TarTime): void {
  if (atime.nsec === 0 && mtime.nsec === 0) lutimesSync(path, atime.sec, mtime.sec);
  else lutimesNs(path, atime.sec, atime.nsec, mtime.sec, mtime.nsec);
}

/**
 * Sets the entry's xattrs. Two refusals are tolerated as containerd tolerates them: user.*
 * attributes on what cannot carry them (symlinks, devices) and a filesystem without xattrs.
 */
export function setXattrs(path: Buffer, xattrs: ReadonlyMap<string, Buffer>, regularOrDir: boolean): void {
  for (const [name, value] of xattrs) {
    try {
      lsetxattr(path, name, value);
    } catch (err) {
      const code = (err as SystemError).code;
      if (code === "ENOTSUP" || code === "EOPNOTSUPP") continue;
      if (code === "EPERM" && name.startsWith("user.") && !regularOrDir) continue;
      throw err;
    }
  }
}

/** Copies xattrs from `src` to `dst`, except those `skip` rejects. */
export function copyXattrs(src: Buffer, dst: Buffer, skip: (name: string) => boolean): void {
  let names: string[];
  try {
    names = llistxattr(src);
  } catch (err) {
    if ((err as SystemError).code === "ENOTSUP") return;
    throw err;
  }
  for (const name of names) {
    if (skip(name)) continue;
    const value = lgetxattr(src, name);
    if (value !== undefined) lsetxattr(dst, name, value);
  }
}
