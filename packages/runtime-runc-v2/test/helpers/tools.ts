import { execFile } from "node:child_process";
import { access, constants, readFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";

export const run = promisify(execFile);

/** The absolute path of `name`; a missing tool fails the test with what to install. */
export async function requireTool(name: string, hint: string): Promise<string> {
  const dirs = [...(process.env["PATH"] ?? "").split(delimiter), "/usr/sbin", "/sbin"];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(`${name} not found on PATH: ${hint}`);
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error("these tests run containers (mounts, cgroups, runc): run them as root");
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
