import { setChildSubreaper, spawnProcess, waitAny, type ReapedChild, type SpawnOptions } from "@berth/native";

/** A process this shim started; `exited` settles once it has been reaped. */
export interface SpawnedProcess {
  readonly pid: number;
  readonly exited: Promise<ReapedChild>;
}

/**
 * Exit statuses gathered while a process is being started whose pid is not known yet (runc
 * writes it to a pid file): the process may be reaped before the shim has read that file.
 */
export interface ExitCapture {
  /** The captured exit of `pid`, if it came while the capture was open. */
  take(pid: number): ReapedChild | undefined;
  close(): void;
}

/**
 * The shim's reaper: the only place where child exit statuses are collected. The shim is a
 * child subreaper, so besides the runc commands it spawns, every container process whose parent
 * dies (container inits once `runc create` exits, exec'd processes, orphans) comes back to it.
 * Node's child_process must not be used alongside: waitpid(-1) would take its children's
 * statuses, and libuv would never learn they exited.
 */
export interface Reaper {
  /** Starts a program (posix_spawn) whose exit the reaper will report. */
  spawn(file: string, args: readonly string[], options?: SpawnOptions): SpawnedProcess;
  /** Calls `onExit` when `pid` (a process this shim adopted, e.g. a container's init) is reaped. */
  watch(pid: number, onExit: (exit: ReapedChild) => void): void;
  /** Stops reporting `pid`. */
  unwatch(pid: number): void;
  /** Keeps exits of unknown pids until closed; see ExitCapture. */
  capture(): ExitCapture;
  /** Reaps whatever has exited now (also run on every SIGCHLD). */
  reapNow(): void;
  close(): void;
}

export function createReaper(): Reaper {
  setChildSubreaper();
  const spawned = new Map<number, (exit: ReapedChild) => void>();
  const watched = new Map<number, (exit: ReapedChild) => void>();
  const captures = new Set<Map<number, ReapedChild>>();

  const deliver = (exit: ReapedChild) => {
    const own = spawned.get(exit.pid);
    if (own) {
      spawned.delete(exit.pid);
      own(exit);
      return;
    }
    const watcher = watched.get(exit.pid);
    if (watcher) {
      watched.delete(exit.pid);
      watcher(exit);
      return;
    }
    // Nobody claims it: a container's grandchild, or a process whose pid file is still being
    // read. Only the latter matters, and only while a capture is open.
    for (const captured of captures) captured.set(exit.pid, exit);
  };

  const reapNow = () => {
    for (let exit = waitAny(); exit !== undefined; exit = waitAny()) deliver(exit);
  };
  // Signals coalesce: one SIGCHLD may stand for many exits, hence the loop in reapNow.
  process.on("SIGCHLD", reapNow);

  return {
    spawn(file, args, options) {
      // Registered before the event loop can run the SIGCHLD handler: no exit can be missed.
      const pid = spawnProcess(file, args, options);
      const exited = new Promise<ReapedChild>((resolve) => spawned.set(pid, resolve));
      return { pid, exited };
    },
    watch(pid, onExit) {
      watched.set(pid, onExit);
    },
    unwatch(pid) {
      watched.delete(pid);
    },
    capture() {
      const captured = new Map<number, ReapedChild>();
      captures.add(captured);
      return {
        take: (pid) => captured.get(pid),
        close: () => captures.delete(captured),
      };
    },
    reapNow,
    close() {
      process.off("SIGCHLD", reapNow);
    },
  };
}
