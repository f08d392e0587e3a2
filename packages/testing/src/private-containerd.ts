import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdtemp, readdir, rm, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fixtureLayout, type FixtureName } from "./fixtures.js";
import { mountsBelow } from "./mounts.js";
import { exec, requireRoot, requireTool } from "./tools.js";

/** Debian's ctr bound to one address and namespace; rejects with ctr's own output. */
export type Ctr = (...args: string[]) => Promise<string>;

export interface PrivateContainerd {
  readonly address: string;
  /** Its temp dir: root, state, sockets and containerd.log. */
  readonly dir: string;
  /** ctr against this containerd in `namespace`. */
  ctrIn(namespace: string): Ctr;
  stop(): Promise<void>;
}

export interface ImportFixtureOptions {
  /** The image is named `<baseName>:latest` (ctr 1.6 names it after --base-name). Default `berth.test/<fixture>`. */
  readonly baseName?: string;
  /** Default true: unpack into the default snapshotter too. */
  readonly unpack?: boolean;
}

/** ctr against `address` in `namespace`: works against containerd and berthd alike. */
export function ctrIn(address: string, namespace: string): Ctr {
  return async (...args) => {
    try {
      return (await exec("ctr", ["-a", address, "-n", namespace, ...args], { maxBuffer: 16 << 20 })).stdout;
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      throw new Error(`ctr ${args.join(" ")} exited ${e.code}: ${e.stderr ?? ""}${e.stdout ?? ""}`);
    }
  };
}

/**
 * Imports a fixture image with `ctr images import` from an OCI archive packed into `workDir`
 * (once per fixture and dir), so a test sees the image exactly as ctr puts it there.
 */
export async function importFixture(ctr: Ctr, workDir: string, fixture: FixtureName, opts: ImportFixtureOptions = {}): Promise<void> {
  const archive = join(workDir, `${fixture}.tar`);
  await exec("tar", ["-C", fixtureLayout(fixture), "-cf", archive, "."]);
  const unpack = opts.unpack === false ? ["--no-unpack"] : [];
  await ctr("images", "import", ...unpack, "--base-name", opts.baseName ?? `berth.test/${fixture}`, archive);
}

export interface PrivateContainerdOptions {
  /** TOML appended to the generated config, e.g. a `[proxy_plugins.NAME]` table. */
  readonly extraConfig?: string;
}

function configToml(dir: string, address: string, extra: string): string {
  const q = JSON.stringify;
  return [
    "version = 2",
    `root = ${q(join(dir, "root"))}`,
    `state = ${q(join(dir, "state"))}`,
    // CRI would want the host's CNI and sandbox image; these tests compare the plain API.
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    `[grpc]\n  address = ${q(address)}`,
    `[ttrpc]\n  address = ${q(`${address}.ttrpc`)}`,
    '[debug]\n  address = ""\n  level = "warn"',
    '[metrics]\n  address = ""',
    `[plugins."io.containerd.internal.v1.opt"]\n  path = ${q(join(dir, "opt"))}`,
    extra,
    "",
  ].join("\n");
}

/**
 * Debian's containerd with its own root, state and socket in a temp dir (CRI off), so it never
 * meets a system containerd: the reference Berth's behaviour is compared with. Fails when
 * containerd, its shim or runc is missing, or without root.
 */
export async function startPrivateContainerd(opts: PrivateContainerdOptions = {}): Promise<PrivateContainerd> {
  requireRoot("they run Debian's containerd");
  for (const tool of ["containerd", "ctr", "containerd-shim-runc-v2"]) await requireTool(tool, "containerd");
  await requireTool("runc", "runc");
  const dir = await mkdtemp(join(tmpdir(), "berth-ctd-"));
  const address = join(dir, "c.sock");
  await writeFile(join(dir, "config.toml"), configToml(dir, address, opts.extraConfig ?? ""));
  const log = openSync(join(dir, "containerd.log"), "a");
  const proc = spawn("containerd", ["--config", join(dir, "config.toml")], { stdio: ["ignore", log, log] });
  closeSync(log);
  const exited = new Promise<void>((done) => proc.once("exit", () => done()));
  const ctd: PrivateContainerd = { address, dir, ctrIn: (namespace) => ctrIn(address, namespace), stop: () => stopContainerd(ctd, proc, exited) };
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await exec("ctr", ["-a", address, "version"]);
        return ctd;
      } catch (err) {
        if (attempt > 200 || proc.exitCode !== null) throw new Error(`containerd did not start (see ${dir}/containerd.log)`, { cause: err });
        await sleep(100);
      }
    }
  } catch (err) {
    await ctd.stop();
    throw err;
  }
}

/**
 * Removes every namespace's tasks and containers (so no shim outlives the test), stops
 * containerd, unmounts what it left and deletes its dir.
 */
async function stopContainerd(ctd: PrivateContainerd, proc: ReturnType<typeof spawn>, exited: Promise<void>): Promise<void> {
  const namespaces = proc.exitCode === null ? await namespacesOf(ctd.address) : [];
  for (const namespace of namespaces) await removeTasksAndContainers(ctd.ctrIn(namespace));
  proc.kill("SIGTERM");
  const killer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(killer);
  for (const m of await mountsBelow(ctd.dir)) await exec("umount", ["-l", m]).catch(() => undefined);
  await rm(ctd.dir, { recursive: true, force: true });
  // runc's per-namespace parents, which containerd leaves: rmdir only, so one in use stays, and
  // only tests' own namespaces, never a system containerd's "default".
  for (const namespace of namespaces.filter((n) => n.startsWith("berth-"))) {
    for (const controller of await readdir("/sys/fs/cgroup").catch(() => [])) await rmdir(join("/sys/fs/cgroup", controller, namespace)).catch(() => undefined);
    await rmdir(join("/run/containerd/runc", namespace)).catch(() => undefined);
  }
}

async function namespacesOf(address: string): Promise<string[]> {
  const out = await exec("ctr", ["-a", address, "namespaces", "ls", "-q"]).catch(() => ({ stdout: "" }));
  return out.stdout.split("\n").filter(Boolean);
}

async function removeTasksAndContainers(ctr: Ctr): Promise<void> {
  const ids = async (kind: string) => (await ctr(kind, "ls", "-q").catch(() => "")).split("\n").filter(Boolean);
  for (const id of await ids("tasks")) await ctr("tasks", "rm", "-f", id).catch(() => "");
  for (const id of await ids("containers")) await ctr("containers", "rm", id).catch(() => "");
}
