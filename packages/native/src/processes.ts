import { closeSync } from "node:fs";
import { binding } from "./binding.js";
import { watchReadable } from "./descriptors.js";
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

/** "exit status 1" or "killed by signal 9", for error messages. */
export function describeExit(exit: ReapedChild): string {
  return exit.signal !== undefined ? `killed by signal ${exit.signal}` : `exit status ${exit.exitCode}`;
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

/**
 * Reaps `pid`, a child started with spawnProcess, once it exits: its pidfd is polled on Node's
 * loop and reaped with waitid on that pidfd alone. For processes that also use child_process,
 * where waitAny would take libuv's children (berthd starting shims); the pid must not be
 * reaped any other way.
 */
export function waitForExit(pid: number): Promise<ReapedChild> {
  const pidfd = rethrowAsSystemError(() => binding.pidfdOpen(pid));
  return new Promise((resolve, reject) => {
    const watch = watchReadable(pidfd, () => {
      let exit: ReapedChild | undefined;
      try {
        exit = rethrowAsSystemError(() => binding.waitPidfd(pidfd));
        if (exit === undefined) return; // woken before the exit was ready
      } catch (err) {
        finish();
        reject(err as Error);
        return;
      }
      finish();
      resolve(exit);
    });
    const finish = () => {
      watch.close();
      closeSync(pidfd);
    };
  });
}

/** The process group of `pid` (0: this process). */
export function getpgid(pid = 0): number {
  return rethrowAsSystemError(() => binding.getpgid(pid));
}

export interface SpawnOptions {
  /** The environment, as NAME=value strings; default: this process's. */
  readonly env?: readonly string[];
  /**
   * The child's descriptors: child fd i is a duplicate of `fds[i]` (0, 1, 2 are its stdio). No
   * other descriptor is passed on. Default: [0, 1, 2] of this process.
   */
  readonly fds?: readonly number[];
  /** Working directory of the child. */
  readonly cwd?: string;
  /** Starts the child in a new session (setsid), away from this process's terminal and group. */
  readonly setsid?: boolean;
}

/**
 * Starts `file` (searched on the child's PATH when it has no slash) with `args` (argv[0] first)
 * and returns its pid: fork + exec, with every signal disposition and the mask reset to defaults
 * (Node ignores SIGPIPE; a child must not inherit that). An exec failure throws here, with the
 * child already collected. Unlike child_process this leaves reaping to the caller: a shim spawns
 * its runtimes this way and collects every exit status, its own children's and adopted
 * orphans', with waitAny().
 */
export function spawnProcess(file: string, args: readonly string[], options: SpawnOptions = {}): number {
  const env = options.env ?? Object.entries(process.env).map(([name, value]) => `${name}=${value ?? ""}`);
  return rethrowAsSystemError(() => binding.spawnProcess(file, args, env, options.fds ?? [0, 1, 2], options.cwd, options.setsid ?? false));
}
