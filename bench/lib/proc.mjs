// Child processes: run a command and time it, start a long-running daemon, stop it.
import { AsyncLocalStorage } from "node:async_hooks";
import { spawn } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import { pipeline } from "node:stream/promises";

const MAX_CAPTURE = 1 << 20;
const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/** Commands still running; on a signal they are killed and no new one starts outside the clean-up. */
const live = new Set();
let aborting = false;
/** The clean-up runs inside this scope, so its own commands (umount, runc delete, …) still start. */
export const cleanupScope = new AsyncLocalStorage();

/** Kills every command run() started that is still running; later run() calls fail unless inside cleanupScope. */
export function abortChildren() {
  aborting = true;
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch {}
  }
}

/** A command that exited non-zero (or was killed); `output` is its stderr/stdout tail. */
export class CommandError extends Error {
  constructor(cmd, args, result) {
    const output = (result.stderr || result.stdout || "").trim().split("\n").slice(-8).join("\n");
    const how = result.signal ? `signal ${result.signal}` : `exit ${result.code}`;
    super(`${[cmd, ...args].join(" ")}: ${how}${output ? `\n${output}` : ""}`);
    this.name = "CommandError";
    this.result = result;
    this.output = output;
  }
}

/**
 * Runs `cmd args` to completion. Resolves (never rejects on a non-zero exit) with
 * { code, signal, stdout, stderr, ms }, where ms is wall time from spawn to exit.
 *
 * opts.input: string/Buffer written to stdin; opts.feed: async (stdin) => void that writes
 * stdin itself (the clock runs while it does); opts.stdout: "pipe" (captured, default) or
 * "ignore"; opts.timeoutMs (default 10 min) kills the process (SIGKILL) and resolves with signal set.
 */
export function run(cmd, args = [], opts = {}) {
  return new Promise((resolve, reject) => {
    if (aborting && !cleanupScope.getStore()) {
      reject(new Error(`interrupted: not starting ${cmd}`));
      return;
    }
    const stdinMode = opts.input !== undefined || opts.feed ? "pipe" : "ignore";
    const t0 = performance.now();
    let child;
    try {
      child = spawn(cmd, args, {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        stdio: [stdinMode, opts.stdout ?? "pipe", opts.stderr ?? "pipe"],
      });
    } catch (err) {
      reject(err);
      return;
    }
    live.add(child);
    let stdout = "";
    let stderr = "";
    let ms = 0;
    child.stdout?.on("data", (d) => {
      if (stdout.length < MAX_CAPTURE) stdout += d;
    });
    child.stderr?.on("data", (d) => {
      if (stderr.length < MAX_CAPTURE) stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.on("error", (err) => {
      live.delete(child);
      clearTimeout(timer);
      reject(err);
    });
    child.on("exit", () => {
      ms = performance.now() - t0;
    });
    child.on("close", (code, signal) => {
      live.delete(child);
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: ms || performance.now() - t0 });
    });
    if (stdinMode === "pipe") {
      child.stdin.on("error", () => {}); // EPIPE when the child exits early; its exit code tells
      if (opts.feed) {
        opts.feed(child.stdin).catch(() => child.stdin.destroy());
      } else {
        child.stdin.end(opts.input);
      }
    }
  });
}

/** run(), then throws CommandError unless it exited 0. */
export async function runOk(cmd, args = [], opts = {}) {
  const res = await run(cmd, args, opts);
  if (res.code !== 0) throw new CommandError(cmd, args, res);
  return res;
}

/** Streams a sequence of chunks/readables into a writable (a child's stdin), then ends it. */
export async function feedStreams(stdin, parts) {
  for (const part of parts) {
    if (typeof part === "string" || part instanceof Uint8Array) {
      if (!stdin.write(part)) await new Promise((r) => stdin.once("drain", r));
    } else {
      await pipeline(part, stdin, { end: false });
    }
  }
  stdin.end();
}

/**
 * Starts a long-running process in its own process group (a terminal's Ctrl-C reaches only
 * the harness, which then stops it in order), output appended to `logFile`.
 * Returns { child, pid, exited: Promise<{code, signal}>, stop(timeoutMs) }.
 */
export function startProcess(cmd, args, { logFile, cwd, env } = {}) {
  if (aborting && !cleanupScope.getStore()) throw new Error(`interrupted: not starting ${cmd}`);
  const fd = openSync(logFile, "a");
  const child = spawn(cmd, args, { cwd, env: env ?? process.env, stdio: ["ignore", fd, fd], detached: true });
  closeSync(fd);
  let done = false;
  const exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    child.on("error", (err) => {
      done = true;
      resolve({ code: -1, signal: null, error: err });
    });
  });
  return {
    child,
    pid: child.pid,
    exited,
    get running() {
      return !done;
    },
    /** SIGTERM, then SIGKILL after timeoutMs. */
    async stop(timeoutMs = 15000) {
      if (done) return exited;
      try {
        process.kill(child.pid, "SIGTERM");
      } catch {}
      const timer = setTimeout(() => {
        try {
          process.kill(child.pid, "SIGKILL");
        } catch {}
      }, timeoutMs);
      const res = await exited;
      clearTimeout(timer);
      return res;
    },
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs async fn over items with at most `limit` in flight; resolves with results in order. */
export async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return results;
}

/** Absolute path of a command on PATH, or undefined. */
export async function which(name) {
  const res = await run("sh", ["-c", `command -v "$1"`, "sh", name]);
  const path = res.stdout.trim();
  return res.code === 0 && path.startsWith("/") ? path : undefined;
}

/** sync(1): flush dirty pages left by earlier (untimed) work so they are not written back inside a timed one. */
export async function flushDisks() {
  await runOk("sync");
}
