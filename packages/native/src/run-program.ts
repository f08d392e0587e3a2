import { closeSync, openSync } from "node:fs";
import { pipe } from "./descriptors.js";
import { readPipe, writePipe } from "./pipe-streams.js";
import { spawnProcess, waitForExit, type ReapedChild } from "./processes.js";

export interface RunProgramOptions {
  /** The environment, as NAME=value strings or an object; default: this process's. */
  readonly env?: readonly string[] | Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Written to the program's stdin, which is then closed; default: stdin is /dev/null. */
  readonly input?: Uint8Array | string;
  /** Starts the program in a new session (setsid), out of reach of this process's group. */
  readonly setsid?: boolean;
  /** Kills the program (SIGKILL); the result then has `aborted` set. */
  readonly signal?: AbortSignal;
  /** Bytes of stdout and stderr kept, the two together; default 1 MiB. */
  readonly maxOutput?: number;
  /**
   * After the exit, how long to wait for the output pipes to reach end of file; default: until
   * they do. A program that leaves a daemon holding its stdout (a shim's `start`) needs a limit.
   */
  readonly drainAfterExitMs?: number;
}

export interface ProgramResult {
  readonly exit: ReapedChild;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  /** The signal aborted the run and the program was killed. */
  readonly aborted: boolean;
}

/**
 * Runs `file` with `args` (argv[0] first) to its exit, with stdout and stderr collected:
 * child_process's execFile, but started with spawnProcess (vfork), so a large process does not
 * block its event loop copying page tables for every program it runs, and reaped through a
 * pidfd (waitForExit), so it can be used beside child_process. Start failures (ENOENT) throw.
 */
export async function runProgram(file: string, args: readonly string[], options: RunProgramOptions = {}): Promise<ProgramResult> {
  const [inRead, inWrite] = options.input !== undefined ? pipe() : [openSync("/dev/null", "r"), undefined];
  const [outRead, outWrite] = pipe();
  const [errRead, errWrite] = pipe();
  let pid: number;
  try {
    pid = spawnProcess(file, args, {
      ...(options.env !== undefined ? { env: envStrings(options.env) } : {}),
      fds: [inRead, outWrite, errWrite],
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      setsid: options.setsid ?? false,
    });
  } catch (err) {
    for (const fd of [inWrite, outRead, errRead]) if (fd !== undefined) closeSync(fd);
    throw err;
  } finally {
    // The child has its copies; ours would keep its output pipes from reaching end of file.
    for (const fd of [inRead, outWrite, errWrite]) closeSync(fd);
  }
  const exited = waitForExit(pid);
  const budget = { left: options.maxOutput ?? 1024 * 1024 };
  const stdout = readPipe(outRead, budget);
  const stderr = readPipe(errRead, budget);
  if (inWrite !== undefined) void writePipe(inWrite, options.input!);
  let aborted = false;
  // The pid is not reaped before `exited` settles, so it cannot name another process yet.
  const onAbort = () => {
    aborted = true;
    process.kill(pid, "SIGKILL");
  };
  const { signal } = options;
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const exit = await exited;
    const drained = Promise.all([stdout.data, stderr.data]);
    if (options.drainAfterExitMs !== undefined) {
      await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, options.drainAfterExitMs).unref())]);
      stdout.stop();
      stderr.stop();
    }
    const [out, err] = await drained;
    return { exit, stdout: out, stderr: err, aborted };
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

function envStrings(env: readonly string[] | Readonly<Record<string, string | undefined>>): readonly string[] {
  if (Array.isArray(env)) return env as readonly string[];
  return Object.entries(env).flatMap(([name, value]) => (value === undefined ? [] : [`${name}=${value}`]));
}
