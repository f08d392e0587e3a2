import { binding, type RawPath } from "./binding.js";
import { rethrowAsSystemError } from "./system-error.js";

/**
 * mount(2). `data` is the filesystem's option string ("" for none). With `cwd`, the call runs
 * with that working directory — on a thread of its own, the process's cwd never moves — so
 * relative paths in `data` resolve against it: that is how an overlay's lowerdir list that
 * would not fit in the kernel's one-page option buffer is shortened. Use an absolute `target`
 * then.
 */
export function mount(source: RawPath, target: RawPath, fstype: string, flags: number, data: RawPath, cwd?: RawPath): void {
  rethrowAsSystemError(() => (cwd === undefined ? binding.mount(source, target, fstype, flags, data) : binding.mount(source, target, fstype, flags, data, cwd)));
}

/** umount2(2); flags from MNT_DETACH, MNT_FORCE, UMOUNT_NOFOLLOW. */
export function umount2(target: RawPath, flags: number): void {
  rethrowAsSystemError(() => binding.umount2(target, flags));
}

function constant(name: string): number {
  const value = binding.constants[name];
  if (value === undefined) throw new Error(`@berth/native: the addon does not define ${name}`);
  return value;
}

export const MNT_FORCE = constant("MNT_FORCE");
export const MNT_DETACH = constant("MNT_DETACH");
export const UMOUNT_NOFOLLOW = constant("UMOUNT_NOFOLLOW");

export const MS_RDONLY = constant("MS_RDONLY");
export const MS_NOSUID = constant("MS_NOSUID");
export const MS_NODEV = constant("MS_NODEV");
export const MS_NOEXEC = constant("MS_NOEXEC");
export const MS_SYNCHRONOUS = constant("MS_SYNCHRONOUS");
export const MS_REMOUNT = constant("MS_REMOUNT");
export const MS_MANDLOCK = constant("MS_MANDLOCK");
export const MS_DIRSYNC = constant("MS_DIRSYNC");
export const MS_NOATIME = constant("MS_NOATIME");
export const MS_NODIRATIME = constant("MS_NODIRATIME");
export const MS_BIND = constant("MS_BIND");
export const MS_MOVE = constant("MS_MOVE");
export const MS_REC = constant("MS_REC");
export const MS_SILENT = constant("MS_SILENT");
export const MS_PRIVATE = constant("MS_PRIVATE");
export const MS_SLAVE = constant("MS_SLAVE");
export const MS_SHARED = constant("MS_SHARED");
export const MS_UNBINDABLE = constant("MS_UNBINDABLE");
export const MS_RELATIME = constant("MS_RELATIME");
export const MS_STRICTATIME = constant("MS_STRICTATIME");

/** The kernel's page size: mount(2) copies at most this many bytes of `data`. */
export const PAGE_SIZE = constant("PAGE_SIZE");
