import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { internal, notFound } from "@berth/core";
import { describeExit, runProgram, type ProgramResult } from "@berth/native";
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
  let result: ProgramResult;
  try {
    result = await runProgram(binary, [binary], { env, input: JSON.stringify(inv.stdin), ...(inv.signal ? { signal: inv.signal } : {}) });
  } catch (err) {
    throw internal(`${describe(inv)}: cannot run ${binary}: ${(err as Error).message}`, err);
  }
  if (result.aborted) throw pluginCanceled(inv, inv.signal?.reason);
  const stdout = result.stdout.toString("utf8");
  if (!result.exit.exited || result.exit.exitCode !== 0) {
    const failure = parsePluginFailure(stdout);
    if (failure) throw pluginError(inv, failure);
    const text = result.stderr.toString("utf8").trim() || stdout.trim() || describeExit(result.exit);
    throw internal(`${describe(inv)} failed: ${text}`);
  }
  if (stdout.trim() === "") return undefined;
  try {
    return JSON.parse(stdout);
  } catch (err) {
    throw internal(`${describe(inv)} printed a result that is not JSON: ${stdout.slice(0, 200)}`, err);
  }
}
