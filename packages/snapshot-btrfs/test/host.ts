import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { promisify } from "node:util";
import type { Mount } from "@berth/core";

const exec = promisify(execFile);

/** Runs a command, failing with its stderr; `hint` says what to install when it is missing. */
export async function run(cmd: string, args: readonly string[], hint?: string): Promise<string> {
  try {
    return (await exec(cmd, args)).stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT") throw new Error(`${cmd} is missing${hint ? `: ${hint}` : ""}`);
    throw new Error(`${cmd} ${args.join(" ")} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** Root and the tools: required, never skipped. */
export async function requireBtrfsHost(): Promise<void> {
  assert.equal(process.getuid?.(), 0, "these tests mount a loop-backed btrfs: run them as root");
  await run("mkfs.btrfs", ["--version"], "install btrfs-progs (apt-get install btrfs-progs; scripts/setup.sh lists it)");
  await run("btrfs", ["--version"], "install btrfs-progs (apt-get install btrfs-progs; scripts/setup.sh lists it)");
  await run("mount", ["--version"], "install util-linux's mount");
}

export interface LoopBtrfs {
  /** A temp dir on the host's filesystem holding the image and mount points. */
  readonly dir: string;
  /** Where the btrfs is mounted. */
  readonly mountPoint: string;
  dispose(): Promise<void>;
}

/** A 1 GiB sparse image, formatted btrfs and loop-mounted (the loop device goes with the unmount). */
export async function makeLoopBtrfs(): Promise<LoopBtrfs> {
  await requireBtrfsHost();
  const dir = await mkdtemp(join(tmpdir(), "berth-btrfs-"));
  const image = join(dir, "btrfs.img");
  const mountPoint = join(dir, "fs");
  await run("truncate", ["-s", "1G", image]);
  await run("mkfs.btrfs", ["-q", image]);
  await mkdir(mountPoint);
  await run("mount", ["-o", "loop", image, mountPoint]);
  return {
    dir,
    mountPoint,
    async dispose() {
      for (const m of await mountsBelow(dir)) await run("umount", [m]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Mounts containerd-style mounts with mount(8), as a `ctr snapshots mounts` user would. */
export async function mountAll(mounts: readonly Mount[], target: string): Promise<void> {
  for (const m of mounts) {
    await run("mount", ["-t", m.type, "-o", m.options.join(","), m.source, m.target ? join(target, m.target) : target]);
  }
}

export const unmount = async (target: string): Promise<void> => void (await run("umount", ["-R", target]));

/** Every mount point at or below `dir`, deepest first. */
export async function mountsBelow(dir: string): Promise<string[]> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  return info
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(dir + sep)))
    .sort((a, b) => b.length - a.length);
}
