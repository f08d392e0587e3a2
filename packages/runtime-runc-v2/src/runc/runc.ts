import { readFile } from "node:fs/promises";
import { failedPrecondition, internal, notFound, type BerthError } from "@berth/core";
import type { Reaper } from "../process/reaper.js";
import { describeExit } from "@berth/native";
import { runCommand, type CommandResult } from "../process/run-command.js";
import { lastRuncError, runcLogEnd } from "./runc-log.js";

/** How the shim calls the OCI runtime for one container (containerd's go-runc settings). */
export interface RuncConfig {
  /** The runtime binary: runc, or what runc options' BinaryName names (crun). */
  readonly binary: string;
  /** `--root`: the runtime's state directory for this namespace. */
  readonly root: string;
  /** `--log`, written as JSON; its last error explains a failed create, start or exec. */
  readonly logPath: string;
  readonly systemdCgroup: boolean;
}

export interface RuncCreateOptions {
  readonly pidFile: string;
  readonly consoleSocket?: string;
  readonly noPivot?: boolean;
  readonly noNewKeyring?: boolean;
  /** What the container's process inherits as stdin, stdout and stderr. */
  readonly stdio: readonly [number, number, number];
}

export interface RuncExecOptions {
  readonly processPath: string;
  readonly pidFile: string;
  readonly consoleSocket?: string;
  readonly stdio: readonly [number, number, number];
}

export interface RuncCheckpointOptions {
  readonly imagePath: string;
  readonly workPath: string;
  readonly parentPath?: string;
  readonly leaveRunning: boolean;
  readonly allowOpenTcp?: boolean;
  readonly allowExternalUnixSockets?: boolean;
  readonly allowTerminal?: boolean;
  readonly fileLocks?: boolean;
  readonly emptyNamespaces?: readonly string[];
}

export interface RuncRestoreOptions {
  readonly bundle: string;
  readonly pidFile: string;
  readonly imagePath: string;
  readonly workPath: string;
  readonly parentPath?: string;
  readonly consoleSocket?: string;
  readonly noPivot?: boolean;
  readonly stdio: readonly [number, number, number];
}

/** The OCI runtime's command line, one method per command the shim uses. */
export interface Runc {
  readonly config: RuncConfig;
  create(id: string, bundle: string, options: RuncCreateOptions): Promise<void>;
  start(id: string): Promise<void>;
  exec(id: string, options: RuncExecOptions): Promise<void>;
  kill(id: string, signal: number, all: boolean): Promise<void>;
  delete(id: string, force: boolean): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** Pids of every process in the container. */
  ps(id: string): Promise<number[]>;
  /** `runc update --resources -` with OCI LinuxResources as JSON. */
  update(id: string, resources: Uint8Array): Promise<void>;
  checkpoint(id: string, options: RuncCheckpointOptions): Promise<void>;
  restore(id: string, options: RuncRestoreOptions): Promise<void>;
}

/** A failed runtime command: `output` is what it printed, `runtimeMessage` its log's last error. */
export interface RuncFailure {
  readonly command: string;
  readonly output: string;
  readonly runtimeMessage: string | undefined;
}

export function createRunc(reaper: Reaper, config: RuncConfig): Runc {
  const global = ["--root", config.root, "--log", config.logPath, "--log-format", "json", ...(config.systemdCgroup ? ["--systemd-cgroup"] : [])];

  const run = async (what: string, args: string[], options: Parameters<typeof runCommand>[3] = {}): Promise<CommandResult> => {
    const logFrom = await runcLogEnd(config.logPath);
    const result = await runCommand(reaper, config.binary, [...global, ...args], options);
    if (result.exit.exitCode !== 0 || result.exit.signal !== undefined) {
      throw await runtimeError(what, config, result, logFrom);
    }
    return result;
  };

  return {
    config,
    async create(id, bundle, o) {
      await run("create", [
        "create",
        "--bundle",
        bundle,
        "--pid-file",
        o.pidFile,
        ...(o.consoleSocket ? ["--console-socket", o.consoleSocket] : []),
        ...(o.noPivot ? ["--no-pivot"] : []),
        ...(o.noNewKeyring ? ["--no-new-keyring"] : []),
        id,
      ], { stdio: o.stdio, cwd: bundle });
    },
    async start(id) {
      await run("start", ["start", id]);
    },
    async exec(id, o) {
      await run("exec", [
        "exec",
        "--detach",
        "--process",
        o.processPath,
        "--pid-file",
        o.pidFile,
        ...(o.consoleSocket ? ["--console-socket", o.consoleSocket] : []),
        id,
      ], { stdio: o.stdio });
    },
    async kill(id, signal, all) {
      await run("kill", ["kill", ...(all ? ["--all"] : []), id, String(signal)]);
    },
    async delete(id, force) {
      await run("delete", ["delete", ...(force ? ["--force"] : []), id]);
    },
    async pause(id) {
      await run("pause", ["pause", id]);
    },
    async resume(id) {
      await run("resume", ["resume", id]);
    },
    async ps(id) {
      const { output } = await run("ps", ["ps", "--format", "json", id]);
      // Only stdout is JSON; runc writes nothing else on success.
      const pids = JSON.parse(output.trim() || "[]") as unknown;
      return Array.isArray(pids) ? pids.filter((p): p is number => typeof p === "number") : [];
    },
    async update(id, resources) {
      await run("update", ["update", "--resources", "-", id], { input: resources });
    },
    async checkpoint(id, o) {
      await run("checkpoint", [
        "checkpoint",
        "--image-path",
        o.imagePath,
        "--work-path",
        o.workPath,
        ...(o.parentPath ? ["--parent-path", o.parentPath] : []),
        ...(o.leaveRunning ? ["--leave-running"] : []),
        ...(o.allowOpenTcp ? ["--tcp-established"] : []),
        ...(o.allowExternalUnixSockets ? ["--ext-unix-sk"] : []),
        ...(o.allowTerminal ? ["--shell-job"] : []),
        ...(o.fileLocks ? ["--file-locks"] : []),
        ...(o.emptyNamespaces ?? []).flatMap((ns) => ["--empty-ns", ns]),
        id,
      ]);
    },
    async restore(id, o) {
      await run("restore", [
        "restore",
        "--detach",
        "--bundle",
        o.bundle,
        "--pid-file",
        o.pidFile,
        "--image-path",
        o.imagePath,
        "--work-path",
        o.workPath,
        "--no-subreaper",
        ...(o.parentPath ? ["--parent-path", o.parentPath] : []),
        ...(o.consoleSocket ? ["--console-socket", o.consoleSocket] : []),
        ...(o.noPivot ? ["--no-pivot"] : []),
        id,
      ], { stdio: o.stdio, cwd: o.bundle });
    },
  };
}

const FAILURE = Symbol.for("berth.runc.failure");

/** The runtime failure behind an error from a Runc method, if it is one. */
export function runcFailureOf(err: unknown): RuncFailure | undefined {
  return (err as { [FAILURE]?: RuncFailure } | undefined)?.[FAILURE];
}

async function runtimeError(command: string, config: RuncConfig, result: CommandResult, logFrom: number): Promise<BerthError> {
  const runtimeMessage = await lastRuncError(config.logPath, logFrom);
  const output = result.output.trim();
  const detail = runtimeMessage ?? (output !== "" ? output : describeExit(result.exit));
  // containerd's wording, which clients and people recognise.
  const text = `OCI runtime ${command} failed: ${detail}`;
  // The same classes containerd gives these failures (its checkKillError and state checks).
  const lower = `${output} ${runtimeMessage ?? ""}`.toLowerCase();
  const err = lower.includes("does not exist") || lower.includes("not found")
    ? notFound(text)
    : lower.includes("not running") || lower.includes("no such process") || lower.includes("container not paused") || lower.includes("container is paused")
      ? failedPrecondition(text)
      : internal(text);
  Object.defineProperty(err, FAILURE, { value: { command, output, runtimeMessage } satisfies RuncFailure });
  return err;
}

/** The pid runc wrote to `pidFile`. */
export async function readPidFile(pidFile: string): Promise<number> {
  const pid = Number.parseInt((await readFile(pidFile, "utf8")).trim(), 10);
  if (!Number.isSafeInteger(pid) || pid <= 0) throw internal(`invalid pid in ${pidFile}`);
  return pid;
}
