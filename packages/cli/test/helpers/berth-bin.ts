import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

/** The built `berth` (tests run after the build, as turbo orders them). */
export const BERTH_BIN = join(import.meta.dirname, "..", "..", "dist", "bin", "berth.js");

export interface BerthResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunningBerth {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout matches `pattern` (fails if berth exits first). */
  waitForOutput(pattern: RegExp): Promise<void>;
  readonly done: Promise<BerthResult>;
}

/** Starts the berth binary with `args`; stdin is `input` then closed, or left open with `keepStdin`. */
export function spawnBerth(args: readonly string[], opts: { input?: string; keepStdin?: boolean } = {}): RunningBerth {
  if (!existsSync(BERTH_BIN)) throw new Error(`${BERTH_BIN} is missing: build @berth/cli first (cd packages/cli && npx tsc -p .)`);
  const child = spawn(process.execPath, [BERTH_BIN, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  else if (!opts.keepStdin) child.stdin!.end();
  const done = new Promise<BerthResult>((resolve) => child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    async waitForOutput(pattern) {
      let exited = false;
      void done.then(() => (exited = true));
      while (!pattern.test(stdout)) {
        if (exited) throw new Error(`berth ${args.join(" ")} exited before printing ${pattern}: stdout ${JSON.stringify(stdout)} stderr ${JSON.stringify(stderr)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    done,
  };
}

/** Runs the berth binary to completion. */
export function berth(args: readonly string[], opts: { input?: string } = {}): Promise<BerthResult> {
  return spawnBerth(args, opts).done;
}
