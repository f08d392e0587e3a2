import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { ShimFlags } from "../cli/shim-flags.js";
import { readRuncOptions, runtimeOf } from "../runc/runc-options.js";
import { encodeDeleteResponse } from "./delete-response.js";

const run = promisify(execFile);

/** 128 + SIGKILL: how containerd reports a task whose shim died under it. */
const KILLED_STATUS = 137;

/**
 * `delete`: containerd's clean-up after a shim's connection closed (a dead shim, or one that
 * exited after its last container): force-deletes the container from the runtime, unmounts its
 * rootfs and writes a DeleteResponse on stdout. Warnings go to stderr, which containerd logs.
 */
export async function deleteShim(flags: ShimFlags): Promise<Uint8Array> {
  const bundle = flags.bundle || process.cwd();
  const options = await readRuncOptions(bundle);
  const { binary, root } = runtimeOf(options, flags.namespace);
  // containerd runs `delete` whenever a shim's connection closes, also after a clean task
  // delete: then the runtime's state is gone already and there is no runtime to run.
  if (existsSync(join(root, flags.id))) {
    try {
      await run(binary, ["--root", root, "--log", join(bundle, "log.json"), "--log-format", "json", "delete", "--force", flags.id]);
    } catch (err) {
      const detail = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
      if (!detail.includes("does not exist")) process.stderr.write(`failed to remove runc container: ${detail}\n`);
    }
  }
  const rootfs = join(bundle, "rootfs");
  if (await hasMountsUnder(rootfs)) {
    try {
      const { unmountAll } = await import("@berth/mount");
      await unmountAll(rootfs, { detachOnBusy: true });
    } catch (err) {
      process.stderr.write(`failed to clean up rootfs mount: ${(err as Error).message}\n`);
    }
  }
  const pid = await readFile(join(bundle, "init.pid"), "utf8").then(
    (text) => Number.parseInt(text.trim(), 10) || 0,
    () => 0,
  );
  return encodeDeleteResponse(pid, KILLED_STATUS, new Date());
}

/** Whether anything is mounted at or below `dir` (mountinfo's fifth field, octal escapes as the kernel writes them). */
async function hasMountsUnder(dir: string): Promise<boolean> {
  const escaped = dir.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`);
  const info = await readFile("/proc/self/mountinfo", "utf8");
  return info.split("\n").some((line) => {
    const point = line.split(" ")[4];
    return point === escaped || point?.startsWith(`${escaped}/`) === true;
  });
}
