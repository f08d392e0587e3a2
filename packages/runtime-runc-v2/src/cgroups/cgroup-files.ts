import { readdir, readFile } from "node:fs/promises";

// cgroup files are small and often absent (a controller not enabled, an older kernel): a
// missing file reads as undefined and the statistic stays zero, as containerd's
// IgnoreNotExist does.

export async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

/** A file holding one number; "max" (no limit) is the largest uint64, as containerd reports it. */
export async function readUint(path: string): Promise<bigint | undefined> {
  const text = (await readText(path))?.trim();
  if (text === undefined || text === "") return undefined;
  if (text === "max") return 0xffff_ffff_ffff_ffffn;
  try {
    return BigInt(text);
  } catch {
    return undefined;
  }
}

/** "key value" lines (memory.stat, cpu.stat, memory.events). */
export async function readKeyValues(path: string): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const line of (await readText(path))?.split("\n") ?? []) {
    const [key, value] = line.trim().split(/\s+/);
    if (key === undefined || value === undefined) continue;
    try {
      out.set(key, BigInt(value));
    } catch {
      // not a number
    }
  }
  return out;
}

/** Space-separated numbers on one line (cpuacct.usage_percpu). */
export async function readUintList(path: string): Promise<bigint[]> {
  const text = (await readText(path))?.trim() ?? "";
  return text === "" ? [] : text.split(/\s+/).map((v) => BigInt(v));
}

/** Names in `dir` matching `pattern`, with its first group. */
export async function matchingNames(dir: string, pattern: RegExp): Promise<string[]> {
  try {
    return (await readdir(dir)).flatMap((name) => pattern.exec(name)?.[1] ?? []);
  } catch {
    return [];
  }
}
