import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { unmountAll } from "@berth/mount";

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

/**
 * A 1 GiB sparse image, formatted btrfs and loop-mounted by mount(8) (which sets up the loop
 * device with autoclear, so it goes with the unmount).
 */
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
      await unmountAll(dir);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
