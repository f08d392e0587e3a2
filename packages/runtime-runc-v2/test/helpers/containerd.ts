import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, rm, rmdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { umount2, MNT_DETACH } from "@berth/native";
import { alive, eventually, mountsUnder, processesWith, requireRoot, requireTool, run } from "./tools.js";

export const RUNTIME = "io.containerd.berth.v2";
const PACKAGE_DIR = resolve(import.meta.dirname, "../..");
const SHIM_SCRIPT = join(PACKAGE_DIR, "dist/bin/shim.js");
const REPO = resolve(PACKAGE_DIR, "../..");
const FIXTURES = process.env["BERTH_FIXTURES_IMAGES"] ?? join(REPO, ".fixtures/images");

export interface PrivateContainerd {
  readonly dir: string;
  readonly socket: string;
  readonly namespace: string;
  /** `ctr -a SOCK -n NS args…`; rejects with ctr's output on a non-zero exit. */
  ctr(args: readonly string[], options?: { input?: string; timeoutMs?: number }): Promise<{ stdout: string; stderr: string }>;
  /** Like ctr(), but resolves with the exit code instead of rejecting. */
  ctrStatus(args: readonly string[], options?: { input?: string; timeoutMs?: number }): Promise<{ code: number; stdout: string; stderr: string }>;
  /** The berth shim processes serving this daemon (started for container `id`, if given). */
  shims(id?: string): Promise<{ pid: number; argv: string[] }[]>;
  /** Stops containerd (SIGKILL when `kill`), leaving shims and containers running. */
  stop(kill?: boolean): Promise<void>;
  /** Starts containerd again on the same root, state and socket. */
  restart(): Promise<void>;
  /** The last of containerd's log (shim logs included), for failure messages. */
  log(): string;
  /** Removes everything: tasks, containers, shims, mounts, cgroups, the directory. */
  destroy(): Promise<void>;
}

export interface ContainerdOptions {
  /** Extra environment for containerd, which passes it on to the shims it starts. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * A containerd of its own (root, state, sockets in a temporary directory; CRI off), with
 * Berth's shim on its PATH as `containerd-shim-berth-v2`, and the `tiny` fixture image imported
 * into a namespace of its own.
 */
export async function startContainerd(options: ContainerdOptions = {}): Promise<PrivateContainerd> {
  requireRoot();
  const containerd = await requireTool("containerd", "containerd");
  const ctrBin = await requireTool("ctr", "containerd");
  await requireTool("runc", "runc");
  if (!existsSync(SHIM_SCRIPT)) throw new Error(`${SHIM_SCRIPT} is missing: build the package first (pnpm build)`);
  const tinyLayout = join(FIXTURES, "tiny");
  if (!existsSync(join(tinyLayout, "index.json"))) {
    throw new Error(`fixture image ${tinyLayout} is missing: bash /work/shared/fixtures/build-images.sh ${FIXTURES}`);
  }

  const dir = await mkdtemp("/tmp/berth-shim-test-");
  const socket = join(dir, "c.sock");
  const namespace = `bshim-${randomBytes(4).toString("hex")}`;
  const bin = join(dir, "bin");
  await mkdir(bin);
  await writeFile(join(bin, "containerd-shim-berth-v2"), `#!/bin/sh\nexec ${process.execPath} ${SHIM_SCRIPT} "$@"\n`);
  await chmod(join(bin, "containerd-shim-berth-v2"), 0o755);
  const config = join(dir, "config.toml");
  const q = JSON.stringify;
  await writeFile(
    config,
    [
      "version = 2",
      `root = ${q(join(dir, "root"))}`,
      `state = ${q(join(dir, "state"))}`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      "[grpc]",
      `  address = ${q(socket)}`,
      "[ttrpc]",
      `  address = ${q(`${socket}.ttrpc`)}`,
      "[debug]",
      '  level = "debug"',
      "[metrics]",
      '  address = ""',
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = ${q(join(dir, "opt"))}`,
      "",
    ].join("\n"),
  );

  let daemon: ChildProcess | undefined;
  let daemonLog = "";
  const launch = async () => {
    await rm(socket, { force: true });
    const child = spawn(containerd, ["--config", config], {
      // One shim per container unless a test asks for more: most tests reason about a container's own shim.
      env: { ...process.env, BERTH_SHIM_GROUP: "container", ...options.env, PATH: `${bin}:${process.env["PATH"] ?? "/usr/bin:/bin"}` },
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr!.on("data", (chunk: Buffer) => (daemonLog = (daemonLog + chunk.toString()).slice(-200_000)));
    daemon = child;
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`containerd exited: ${daemonLog.slice(-2000)}`);
      return existsSync(socket) ? true : undefined;
    });
  };

  const ctrStatus = (args: readonly string[], o: { input?: string; timeoutMs?: number } = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolvePromise, reject) => {
      const child = spawn(ctrBin, ["-a", socket, "-n", namespace, ...args], { stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      child.stdin.on("error", () => {});
      if (o.input !== undefined) child.stdin.end(o.input);
      else child.stdin.end();
      // A hung ctr (a test that failed half-way) must not hang the clean-up too.
      const timer = o.timeoutMs !== undefined ? setTimeout(() => child.kill("SIGKILL"), o.timeoutMs) : undefined;
      child.once("error", reject);
      child.once("close", (code) => {
        clearTimeout(timer);
        resolvePromise({ code: code ?? -1, stdout, stderr });
      });
    });

  const ctr = async (args: readonly string[], o: { input?: string; timeoutMs?: number } = {}) => {
    const result = await ctrStatus(args, o);
    if (result.code !== 0) throw new Error(`ctr ${args.join(" ")} exited ${result.code}: ${result.stderr}${result.stdout}`);
    return result;
  };

  const shims = async (id?: string) =>
    (await processesWith(socket)).filter((p) => p.argv[0] === "containerd-shim-berth-v2" && (id === undefined || p.argv[p.argv.indexOf("-id") + 1] === id));

  const stop = async (kill = false) => {
    const child = daemon;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill(kill ? "SIGKILL" : "SIGTERM");
    await exited;
  };

  await launch();
  await ctr(["images", "import", "--index-name", "tiny:latest", await tinyTar(dir, tinyLayout)]);

  return {
    dir,
    socket,
    namespace,
    ctr,
    ctrStatus,
    shims,
    stop,
    restart: launch,
    log: () => daemonLog,
    async destroy() {
      const limit = { timeoutMs: 10_000 };
      try {
        if (daemon && daemon.exitCode === null) {
          const tasks = await ctrStatus(["tasks", "ls", "-q"], limit);
          for (const id of tasks.stdout.split("\n").filter(Boolean)) {
            await ctrStatus(["tasks", "kill", "-s", "SIGKILL", id], limit);
            await ctrStatus(["tasks", "delete", "-f", id], limit);
          }
          const containers = await ctrStatus(["containers", "ls", "-q"], limit);
          for (const id of containers.stdout.split("\n").filter(Boolean)) await ctrStatus(["containers", "rm", id], limit);
        }
      } finally {
        await stop(true);
      }
      for (const shim of await shims()) if (alive(shim.pid)) process.kill(shim.pid, "SIGKILL");
      await forceDeleteRuncContainers(`/run/containerd/runc/${namespace}`);
      for (const point of (await mountsUnder(dir)).reverse()) {
        try {
          umount2(point, MNT_DETACH);
        } catch {
          // already gone
        }
      }
      await rm(dir, { recursive: true, force: true });
      await removeNamespaceCgroups(namespace);
    },
  };
}

async function tinyTar(dir: string, layout: string): Promise<string> {
  const tar = join(dir, "tiny.tar");
  await run("tar", ["-C", layout, "-cf", tar, "."]);
  return tar;
}

async function forceDeleteRuncContainers(root: string): Promise<void> {
  if (!existsSync(root)) return;
  for (const id of await readdir(root)) await run("runc", ["--root", root, "delete", "--force", id]).catch(() => {});
  await rm(root, { recursive: true, force: true });
}

/** ctr puts containers in /<namespace>/<id> cgroups; the per-namespace parents stay behind. */
export async function removeNamespaceCgroups(namespace: string): Promise<void> {
  for (const dir of await namespaceCgroupDirs(namespace)) {
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        const children = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory());
        for (const child of children) await rmdir(join(dir, child.name)).catch(() => {});
        await rmdir(dir);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") break;
        await sleep(50);
      }
    }
  }
}

export async function namespaceCgroupDirs(namespace: string): Promise<string[]> {
  const root = "/sys/fs/cgroup";
  const out: string[] = [];
  for (const hierarchy of await readdir(root)) {
    const dir = join(root, hierarchy, namespace);
    if (existsSync(dir)) out.push(dir);
  }
  return out;
}
