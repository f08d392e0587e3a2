import { binding, type RawPath } from "./binding.js";
import { rethrowAsSystemError } from "./system-error.js";

/**
 * Creates a device node, FIFO or socket. `mode` includes the type bits (fs.constants.S_IFCHR,
 * S_IFBLK, S_IFIFO) and is subject to the umask. A 0:0 character device is overlayfs' whiteout.
 */
export function mknod(path: RawPath, mode: number, major: number, minor: number): void {
  rethrowAsSystemError(() => binding.mknod(path, mode, major, minor));
}

/** Creates a FIFO (subject to the umask). */
export function mkfifo(path: RawPath, mode: number): void {
  rethrowAsSystemError(() => binding.mkfifo(path, mode));
}

/**
 * Sets access and modification times to the nanosecond without following a final symlink.
 * Node's utimes takes float seconds (losing nanoseconds) and lutimes rounds the same way.
 */
export function lutimesNs(path: RawPath, atimeSec: number, atimeNsec: number, mtimeSec: number, mtimeNsec: number): void {
  rethrowAsSystemError(() => binding.lutimesNs(path, atimeSec, atimeNsec, mtimeSec, mtimeNsec));
}
