// An in-process berthd with the real plugins (content-local, metadata-lmdb, overlayfs, the
// walking differ, events, every service and this package's runtime), driven by Debian's ctr,
// with the `tiny` fixture image imported. Tests fail, never skip, when root or a tool is missing.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { access, constants, mkdtemp, readdir, readFile, rm, rmdir, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { create, toBinary } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import { eventPayloads, packAny } from "@berth/api";
import { localContentPlugin } from "@berth/content-local";
import { createJsonLogger, defaultServerConfig, isLogLevel, silentLogger, type PluginRegistration, type ServerConfig } from "@berth/core";
import { startDaemon, type Daemon } from "@berth/daemon";
import { walkingDifferPlugin } from "@berth/differ";
import { eventsGrpcPlugin, exchangePlugin } from "@berth/events";
import { lmdbMetadataPlugin } from "@berth/metadata-lmdb";
import { servicePlugins } from "@berth/services";
import { overlayPlugin } from "@berth/snapshot-overlay";
import { runtimeV2TaskPlugin } from "../src/index.js";

export const run = promisify(execFile);

const INSTALL = "apt-get install containerd runc busybox-static (scripts/setup.sh installs them)";
const REPO = resolve(import.meta.dirname, "..", "..", "..");
export const FIXTURES = join(REPO, ".fixtures", "images");

/** berthd's script, which shims run as their -publish-binary. */
export const BERTHD = join(dirname(createRequire(import.meta.url).resolve("@berth/daemon")), "bin", "berthd.js");

/** Every plugin a daemon that runs containers needs. */
export function runtimePlugins(): PluginRegistration[] {
  return [localContentPlugin, lmdbMetadataPlugin, overlayPlugin, walkingDifferPlugin, exchangePlugin, eventsGrpcPlugin, ...servicePlugins, runtimeV2TaskPlugin] as PluginRegistration[];
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error("this test needs root (mounts, runc, shims); run it as root");
}

/** The absolute path of `tool`; a missing tool fails the test saying what to install. */
export async function requireTool(tool: string): Promise<string> {
  for (const dir of [...(process.env["PATH"] ?? "").split(":"), "/usr/sbin", "/sbin"]) {
    const path = join(dir, tool);
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  throw new Error(`${tool} not found on PATH: ${INSTALL}`);
}

/** The config of a daemon living in `dir`, its socket path short enough for sun_path. */
export function configIn(dir: string, runtimeConfig: Readonly<Record<string, unknown>> = {}): ServerConfig {
  const config = defaultServerConfig();
  config.root = join(dir, "root");
  config.state = join(dir, "state");
  config.grpc.address = join(dir, "b.sock");
  // An idle Berth group shim goes soon after its last container, so tests can see it gone.
  config.plugins["io.containerd.runtime.v2.task"] = { publish_binary: BERTHD, group_linger: "200ms", ...runtimeConfig };
  return config;
}

export function testLogger() {
  const level = process.env["BERTH_TEST_LOG"] ?? "";
  return isLogLevel(level) ? createJsonLogger({ level }) : silentLogger;
}

export async function startRuntimeDaemon(dir: string, runtimeConfig: Readonly<Record<string, unknown>> = {}): Promise<Daemon> {
  return startDaemon({ plugins: runtimePlugins(), config: configIn(dir, runtimeConfig), log: testLogger() });
}

/**
 * The tiny fixture as an OCI archive ctr can import. The layouts are built once, before the
 * tests (scripts/test.sh; the build script is not safe to run concurrently), so a missing one
 * fails the test saying how to build it.
 */
export async function tinyArchive(into: string): Promise<string> {
  const layout = join(FIXTURES, "tiny");
  if (!(await exists(join(layout, "index.json")))) {
    throw new Error(`the tiny fixture is missing: run bash ${join(REPO, "..", "shared", "fixtures", "build-images.sh")} ${FIXTURES} (scripts/test.sh does)`);
  }
  const archive = join(into, "tiny.tar");
  await run("tar", ["-C", layout, "-cf", archive, "."]);
  return archive;
}

export const IMAGE = "berth.test/tiny:latest";

/** ctr against `address` in `namespace`; rejects with ctr's output when it fails. */
export function ctrIn(address: string, namespace: string) {
  return async (...args: string[]): Promise<string> => {
    try {
      const { stdout } = await run("ctr", ["-a", address, "-n", namespace, ...args], { maxBuffer: 16 << 20 });
      return stdout;
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      throw Object.assign(new Error(`ctr ${args.join(" ")} exited ${e.code}: ${e.stderr ?? ""}${e.stdout ?? ""}`), { exitCode: e.code, stdout: e.stdout });
    }
  };
}

/** Imports the tiny fixture as IMAGE: ctr 1.6 names the layout's "latest" after --base-name. */
export async function importTiny(ctr: (...args: string[]) => Promise<string>, archive: string): Promise<void> {
  await ctr("images", "import", "--base-name", "berth.test/tiny", archive);
  const images = await ctr("images", "ls", "-q");
  if (!images.split("\n").includes(IMAGE)) throw new Error(`import did not create ${IMAGE}; images: ${images}`);
}

/** `ctr events` running in the background; `waitFor` resolves with the first line matching. */
export function watchEvents(address: string): { lines(): string; waitFor(pattern: RegExp): Promise<string>; stop(): void } {
  const child: ChildProcess = spawn("ctr", ["-a", address, "events"], { stdio: ["ignore", "pipe", "ignore"] });
  let text = "";
  child.stdout!.on("data", (d: Buffer) => (text += d.toString()));
  return {
    lines: () => text,
    async waitFor(pattern) {
      for (;;) {
        const line = text.split("\n").find((l) => pattern.test(l));
        if (line) return line;
        if (child.exitCode !== null) throw new Error(`ctr events exited: ${text}`);
        await sleep(25);
      }
    },
    stop: () => void child.kill("SIGINT"),
  };
}

/** Mount points at or below `dir`. */
export async function mountsBelow(dir: string): Promise<string[]> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  return info
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(dir + sep)));
}

/** Processes whose command line mentions `needle` (e.g. a unique namespace). */
export async function processesMentioning(needle: string): Promise<string[]> {
  const { stdout } = await run("ps", ["-eo", "pid=,args="]);
  return stdout.split("\n").filter((l) => l.includes(needle) && !l.includes("ps -eo"));
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  for (const target of (await mountsBelow(dir)).sort((a, b) => b.length - a.length)) await run("umount", ["-l", target]).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}

/** Where ctr 1.6 puts the stdio FIFOs of the tasks it starts. */
const FIFO_ROOT = "/run/containerd/fifo";

/** Removes ctr's FIFO sets for tasks `ids` (what ctr leaves when the daemon, not ctr, deleted a task). */
export async function removeClientFifos(ids: readonly string[]): Promise<void> {
  for (const set of await readdir(FIFO_ROOT).catch(() => [])) {
    const names = await readdir(join(FIFO_ROOT, set)).catch(() => []);
    if (names.some((n) => ids.some((id) => n.startsWith(`${id}-std`)))) await rm(join(FIFO_ROOT, set), { recursive: true, force: true });
  }
}

const CGROUP_CONTROLLERS = ["memory", "pids", "cpu", "cpuacct", "blkio", "devices", "freezer", "cpuset", "systemd"];

/**
 * What a task of container `id` in `namespace` could leave behind, described; empty when
 * nothing is: a shim process, a bundle, a mount below the daemon's state, the runc state, a
 * cgroup, a stdio FIFO.
 */
export async function leftoversOf(
  namespace: string,
  ids: readonly string[],
  daemonState: string,
  opts: { clientFifos?: boolean } = {},
): Promise<string[]> {
  const found: string[] = [];
  for (const line of await processesMentioning(`-namespace ${namespace} `)) found.push(`process: ${line.trim()}`);
  for (const mount of await mountsBelow(daemonState)) found.push(`mount: ${mount}`);
  const bundles = join(daemonState, "io.containerd.runtime.v2.task", namespace);
  for (const entry of await readdir(bundles).catch(() => [])) found.push(`bundle: ${join(bundles, entry)}`);
  for (const id of ids) {
    if (await exists(join("/run/containerd/runc", namespace, id))) found.push(`runc state: ${id}`);
    for (const controller of CGROUP_CONTROLLERS) {
      const cgroup = join("/sys/fs/cgroup", controller, namespace, id);
      if (await exists(cgroup)) found.push(`cgroup: ${cgroup}`);
    }
  }
  // ctr makes and removes its stdio FIFOs itself, when it deletes the task; a task the daemon
  // removed (its shim died) leaves them to the client, as with containerd.
  if (opts.clientFifos === false) return found;
  for (const set of await readdir(FIFO_ROOT).catch(() => [])) {
    for (const name of await readdir(join(FIFO_ROOT, set)).catch(() => [])) {
      if (ids.some((id) => name.startsWith(`${id}-std`))) found.push(`fifo: ${join(FIFO_ROOT, set, name)}`);
    }
  }
  return found;
}

/**
 * leftoversOf once nothing is left, else what is still there after a few seconds: an idle
 * Berth group shim leaves only after the daemon's linger time (200 ms in these tests).
 */
export async function settledLeftovers(...args: Parameters<typeof leftoversOf>): Promise<string[]> {
  for (let i = 0; ; i++) {
    const found = await leftoversOf(...args);
    if (found.length === 0 || i >= 200) return found;
    await sleep(25);
  }
}

/** Removes what runc leaves for a namespace on purpose (its cgroup parents and state directory). */
export async function removeNamespaceTraces(namespace: string): Promise<void> {
  for (const controller of CGROUP_CONTROLLERS) await rmdir(join("/sys/fs/cgroup", controller, namespace)).catch(() => undefined);
  await rm(join("/run/containerd/runc", namespace), { recursive: true, force: true });
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Polls `check` until it returns true (the test's own timeout bounds it). */
export async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; ; i++) {
    if (await check()) return;
    if (i > 0 && i % 400 === 0) console.warn(`still waiting for ${what}`);
    await sleep(25);
  }
}

/** Runs `berthd --address A publish --topic T --namespace NS` with `event` (a protobuf Any) on stdin. */
export function berthdPublish(address: string, namespace: string, topic: string, event: Uint8Array): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePublish, reject) => {
    const child = spawn(process.execPath, [BERTHD, "--address", address, "publish", "--topic", topic, "--namespace", namespace], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolvePublish({ code, output }));
    child.stdin!.end(event);
  });
}

/** Publishes probes through `berthd publish` until `events` has seen one: ctr events is subscribed. */
export async function waitSubscribed(events: ReturnType<typeof watchEvents>, address: string, namespace: string): Promise<void> {
  const probe = toBinary(AnySchema, create(AnySchema, packAny(eventPayloads.NamespaceCreateSchema, { name: namespace })));
  for (;;) {
    const { code, output } = await berthdPublish(address, namespace, "/probe/ready", probe);
    if (code !== 0) throw new Error(`berthd publish failed (${code}): ${output}`);
    if (events.lines().includes("/probe/ready")) return;
    await sleep(100);
  }
}
