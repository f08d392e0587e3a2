import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, openSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";

// @berth/testing depends on this package, so its tests cannot use it: the few helpers they
// need are here.

export const run = promisify(execFile);

const REPO = resolve(import.meta.dirname, "..", "..", "..", "..");
const TINY_LAYOUT = join(REPO, ".fixtures", "images", "tiny");
export const TINY = "berth.test/tiny:latest";

export async function requireTool(name: string, debianPackage: string): Promise<void> {
  await run("sh", ["-c", `command -v ${name}`]).catch(() => {
    throw new Error(`${name} is not installed: apt-get install ${debianPackage} (or run scripts/setup.sh)`);
  });
}

export interface PrivateContainerd {
  readonly address: string;
  readonly namespace: string;
  /** ctr in the test's namespace; a failure carries ctr's output. */
  ctr(...args: string[]): Promise<string>;
  /** The tiny image's top chain ID (its image config's diff IDs). */
  readonly tinyChainId: string;
  stop(): Promise<void>;
}

/**
 * Debian's containerd with its own root, state and socket in a temp dir (CRI off), the tiny
 * fixture imported into a namespace of the test's own.
 */
export async function startPrivateContainerd(): Promise<PrivateContainerd> {
  if (process.getuid?.() !== 0) throw new Error("these tests run containers: run them as root");
  for (const tool of ["containerd", "ctr", "containerd-shim-runc-v2"]) await requireTool(tool, "containerd");
  await requireTool("runc", "runc");
  if (!existsSync(join(TINY_LAYOUT, "index.json"))) {
    throw new Error(`the tiny fixture is missing: bash ../shared/fixtures/build-images.sh ${join(REPO, ".fixtures", "images")} (scripts/test.sh builds it)`);
  }
  const dir = await mkdtemp(join(tmpdir(), "berth-client-ctd-"));
  const address = join(dir, "c.sock");
  const q = JSON.stringify;
  await writeFile(
    join(dir, "config.toml"),
    [
      "version = 2",
      `root = ${q(join(dir, "root"))}`,
      `state = ${q(join(dir, "state"))}`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      `[grpc]\n  address = ${q(address)}`,
      `[ttrpc]\n  address = ${q(`${address}.ttrpc`)}`,
      '[debug]\n  address = ""\n  level = "warn"',
      '[metrics]\n  address = ""',
      `[plugins."io.containerd.internal.v1.opt"]\n  path = ${q(join(dir, "opt"))}`,
      "",
    ].join("\n"),
  );
  const log = openSync(join(dir, "containerd.log"), "a");
  const proc = spawn("containerd", ["--config", join(dir, "config.toml")], { stdio: ["ignore", log, log] });
  closeSync(log);
  const exited = new Promise<void>((done) => proc.once("exit", () => done()));
  const namespace = `berth-client-${randomBytes(4).toString("hex")}`;
  const ctr = async (...args: string[]) => {
    try {
      return (await run("ctr", ["-a", address, "-n", namespace, ...args], { maxBuffer: 1 << 24 })).stdout;
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      throw new Error(`ctr ${args.join(" ")} exited ${e.code}: ${e.stderr ?? ""}${e.stdout ?? ""}`);
    }
  };
  const stop = async () => {
    for (const id of (await ctr("tasks", "ls", "-q").catch(() => "")).split("\n").filter(Boolean)) await ctr("tasks", "rm", "-f", id).catch(() => "");
    for (const id of (await ctr("containers", "ls", "-q").catch(() => "")).split("\n").filter(Boolean)) await ctr("containers", "rm", id).catch(() => "");
    proc.kill("SIGTERM");
    const killer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(killer);
    const mounts = (await readFile("/proc/self/mountinfo", "utf8")).split("\n").map((l) => l.split(" ")[4] ?? "");
    for (const m of mounts.filter((m) => m.startsWith(`${dir}/`)).reverse()) await run("umount", ["-l", m]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    // runc's parents for the namespace, which containerd leaves: rmdir only, so one in use stays.
    for (const controller of await readdir("/sys/fs/cgroup").catch(() => [])) await rmdir(join("/sys/fs/cgroup", controller, namespace)).catch(() => undefined);
    await rmdir(join("/run/containerd/runc", namespace)).catch(() => undefined);
  };
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await run("ctr", ["-a", address, "version"]);
        break;
      } catch (err) {
        if (attempt > 200 || proc.exitCode !== null) throw new Error(`containerd did not start (see ${dir}/containerd.log)`, { cause: err });
        await sleep(100);
      }
    }
    const archive = join(dir, "tiny.tar");
    await run("tar", ["-C", TINY_LAYOUT, "-cf", archive, "."]);
    await ctr("images", "import", "--base-name", "berth.test/tiny", archive);
    const snapshots = await ctr("snapshots", "ls");
    const tinyChainId = snapshots.split("\n").find((l) => /Committed\s*$/.test(l))?.split(/\s+/)[0];
    if (!tinyChainId) throw new Error(`importing tiny left no committed snapshot: ${snapshots}`);
    return { address, namespace, ctr, tinyChainId, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
