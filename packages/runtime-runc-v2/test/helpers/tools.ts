import { readFile } from "node:fs/promises";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { requireRoot as requireRootFor } from "@berth/testing";

export const run = promisify(execFile);

/** `requireTool(name, debianPackage)` resolves to the tool's path. */
export { requireTool } from "@berth/testing";

/** Fails (never skips) unless root. */
export function requireRoot(): void {
  requireRootFor("they run containers (mounts, cgroups, runc)");
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` until it returns a value other than undefined (the test's own timeout bounds it). */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, everyMs = 25): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    await sleep(everyMs);
  }
}

/** Every process whose command line contains `needle`, with its argv. */
export async function processesWith(needle: string): Promise<{ pid: number; argv: string[] }[]> {
  const { readdir } = await import("node:fs/promises");
  const out: { pid: number; argv: string[] }[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(needle)) out.push({ pid: Number(entry), argv: cmdline.split("\0").filter((a) => a !== "") });
  }
  return out;
}

/** Mount points at or below `dir` (mountinfo field 5). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  return info
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(`${dir}/`)));
}
