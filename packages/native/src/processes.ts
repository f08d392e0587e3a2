import { binding } from "./binding.js";
import { rethrowAsSystemError } from "./system-error.js";

/** A terminated child, as one waitpid(2) reported it. */
export interface ReapedChild {
  readonly pid: number;
  /** The raw wait status. */
  readonly status: number;
  /** True when the child called exit; false when a signal killed it. */
  readonly exited: boolean;
  /** The exit status, or 128 + the signal number for a killed child (as shells and runc report it). */
  readonly exitCode: number;
  /** The signal that killed the child, when one did. */
  readonly signal: number | undefined;
}

/**
 * Makes this process the reaper of orphaned descendants (prctl PR_SET_CHILD_SUBREAPER): a
 * container's processes come back to the shim that started them rather than to init.
 */
export function setChildSubreaper(): void {
  rethrowAsSystemError(() => binding.setChildSubreaper());
}

/**
 * Reaps one terminated child, any child — a single waitpid(-1, WNOHANG). Undefined when none
 * has terminated or there are none. It competes with libuv for child_process children: call it
 * only in a process that owns its reaping (a shim), never in one that also uses child_process.
 */
export function waitAny(): ReapedChild | undefined {
  return rethrowAsSystemError(() => binding.waitAny());
}

/** The process group of `pid` (0: this process). */
export function getpgid(pid = 0): number {
  return rethrowAsSystemError(() => binding.getpgid(pid));
}
