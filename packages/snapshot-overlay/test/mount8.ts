import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { promisify } from "node:util";
import type { Mount } from "@berth/core";

const run = promisify(execFile);

/** The kernel takes mount options up to one page; past that, overlay paths go relative. */
const OPTIONS_LIMIT = 4000;
const PATH_OPTIONS = ["lowerdir=", "upperdir=", "workdir="];

/**
 * Mounts containerd-style mounts with mount(8), as a `ctr snapshots mounts` user would. The
 * tests use this while @berth/mount is written; like it (and containerd), an overlay whose
 * options outgrow a page is mounted from the lowers' common directory with relative paths.
 */
export async function mountAll(mounts: readonly Mount[], target: string): Promise<void> {
  for (const m of mounts) {
    const where = m.target ? join(target, m.target) : target;
    const { options, cwd } = compact(m);
    try {
      await run("mount", ["-t", m.type, "-o", options.join(","), m.source, where], { cwd });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`mount -t ${m.type} ${m.source} ${where} (${options.join(",").length} bytes of options) failed: ${e.stderr?.trim() || e.message}`);
    }
  }
}

export async function unmount(target: string): Promise<void> {
  await run("umount", ["-R", target]).catch((err: { stderr?: string; message: string }) => {
    throw new Error(`umount -R ${target} failed: ${err.stderr?.trim() || err.message}`);
  });
}

/** Every mount point at or below `dir` (from /proc/self/mountinfo), deepest first. */
export async function mountsBelow(dir: string): Promise<string[]> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  return info
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(dir + sep)))
    .sort((a, b) => b.length - a.length);
}

function compact(m: Mount): { options: string[]; cwd: string | undefined } {
  const options = [...m.options];
  if (m.type !== "overlay" || options.join(",").length <= OPTIONS_LIMIT) return { options, cwd: undefined };
  const paths = options.flatMap((o) => {
    const p = PATH_OPTIONS.find((prefix) => o.startsWith(prefix));
    return p ? o.slice(p.length).split(":") : [];
  });
  const common = commonDir(paths);
  const short = options.map((o) => {
    const p = PATH_OPTIONS.find((prefix) => o.startsWith(prefix));
    if (!p) return o;
    return p + o.slice(p.length).split(":").map((path) => relative(common, path)).join(":");
  });
  return { options: short, cwd: common };
}

function commonDir(paths: readonly string[]): string {
  let common = dirname(paths[0] ?? "/");
  while (!paths.every((p) => p.startsWith(common + sep))) common = dirname(common);
  return common;
}
