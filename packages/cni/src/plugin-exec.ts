import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { internal, notFound } from "@berth/core";
import { describe, parsePluginFailure, pluginCanceled, pluginError, type PluginCall } from "./plugin-error.js";

export type CniCommand = "ADD" | "DEL" | "CHECK" | "VERSION";

/** One run of a plugin binary: the CNI_* environment plus the config on stdin. */
export interface PluginInvocation extends PluginCall {
  readonly command: CniCommand;
  readonly binDirs: readonly string[];
  readonly containerId: string;
  readonly netns: string;
  /** CNI_ARGS, already joined: "IgnoreUnknown=1;K8S_POD_NAME=…". */
  readonly args: string;
  readonly stdin: Readonly<Record<string, unknown>>;
  readonly signal?: AbortSignal | undefined;
}

/** The first executable named `type` in `binDirs`, in order. */
export async function findPlugin(type: string, binDirs: readonly string[]): Promise<string> {
  for (const dir of binDirs) {
    const path = join(dir, type);
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      // not in this directory; keep looking
    }
  }
  throw notFound(`cni plugin "${type}" not found in ${binDirs.join(":") || "(no bin dirs)"}`);
}

/**
 * Runs a plugin and returns what it printed as JSON (ADD and VERSION print a result; DEL and
 * CHECK print nothing, giving undefined). A non-zero exit becomes an error naming the plugin,
 * classed by the spec's error code when the plugin printed one.
 */
export async function execPlugin(inv: PluginInvocation): Promise<unknown> {
  if (inv.signal?.aborted) throw pluginCanceled(inv, inv.signal.reason);
  const binary = await findPlugin(inv.pluginType, inv.binDirs);
  const env = {
    ...process.env,
    CNI_COMMAND: inv.command,
    CNI_CONTAINERID: inv.containerId,
    CNI_NETNS: inv.netns,
    CNI_IFNAME: inv.ifName,
    CNI_ARGS: inv.args,
    CNI_PATH: inv.binDirs.join(":"),
  };
  const { code, stdout, stderr, error } = await runBinary(binary, env, JSON.stringify(inv.stdin), inv.signal);
  if (error) {
    if (inv.signal?.aborted) throw pluginCanceled(inv, error);
    throw internal(`${describe(inv)}: cannot run ${binary}: ${error.message}`, error);
  }
  if (code !== 0) {
    const failure = parsePluginFailure(stdout);
    if (failure) throw pluginError(inv, failure);
    const text = stderr.trim() || stdout.trim() || `exit status ${code}`;
    throw internal(`${describe(inv)} failed: ${text}`);
  }
  if (stdout.trim() === "") return undefined;
  try {
    return JSON.parse(stdout);
  } catch (err) {
    throw internal(`${describe(inv)} printed a result that is not JSON: ${stdout.slice(0, 200)}`, err);
  }
}

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly error?: Error;
}

function runBinary(binary: string, env: NodeJS.ProcessEnv, input: string, signal: AbortSignal | undefined): Promise<Finished> {
  return new Promise((resolve) => {
    const child = spawn(binary, [], { env, stdio: ["pipe", "pipe", "pipe"], ...(signal ? { signal } : {}) });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let spawnError: Error | undefined;
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => (spawnError ??= e));
    // A plugin that exits before reading all of stdin must not crash us with EPIPE.
    child.stdin.on("error", () => {});
    child.stdin.end(input);
    child.on("close", (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        ...(spawnError ? { error: spawnError } : {}),
      }),
    );
  });
}
