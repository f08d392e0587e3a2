import { readdirSync, readlinkSync } from "node:fs";
import { binding, type NativeWatch } from "./binding.js";
import { rethrowAsSystemError } from "./system-error.js";

/** A pipe as [read end, write end]: blocking and close-on-exec, made to become a child's stdio. */
export function pipe(): [read: number, write: number] {
  return rethrowAsSystemError(() => binding.pipe());
}

/** A non-blocking, close-on-exec eventfd (what cgroup v1 memory.oom_control notifies through). */
export function eventfd(): number {
  return rethrowAsSystemError(() => binding.eventfd());
}

/** A readiness watch made by watchReadable; close it before closing its descriptor. */
export interface FdWatch {
  close(): void;
}

/**
 * Calls `onReadable` on the main thread whenever `fd` is readable (libuv's poll, on Node's own
 * loop), for descriptors Node has no stream for, such as an eventfd. The callback gets 0, or a
 * negative libuv error code when polling failed. The watch keeps the process alive until
 * closed; the descriptor must stay open until then.
 */
export function watchReadable(fd: number, onReadable: (status: number) => void): FdWatch {
  const handle: NativeWatch = rethrowAsSystemError(() => binding.watchReadable(fd, onReadable));
  let open = true;
  return {
    close() {
      if (!open) return;
      open = false;
      binding.unwatch(handle);
    },
  };
}

/** Sets close-on-exec on `fd`, for descriptors a library opened without it (lmdb's data and lock files). */
export function setCloseOnExec(fd: number): void {
  rethrowAsSystemError(() => binding.setCloseOnExec(fd));
}

/**
 * Sets close-on-exec on every descriptor of this process open on one of `paths` (found through
 * /proc/self/fd), for files a library opens without it: lmdb's environment and lock files would
 * otherwise be inherited by every child, shims included, which keep them open for their lifetime.
 */
export function setCloseOnExecForPaths(paths: readonly string[]): number {
  const wanted = new Set(paths);
  let set = 0;
  for (const name of readdirSync("/proc/self/fd")) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${name}`);
    } catch {
      continue; // closed meanwhile (readdir's own descriptor among them)
    }
    if (!wanted.has(target)) continue;
    setCloseOnExec(Number(name));
    set++;
  }
  return set;
}
