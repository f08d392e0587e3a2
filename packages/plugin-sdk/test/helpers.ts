// What the end-to-end tests share: berth-snapshotter-proxy as a real process, berthd in this
// process with the plugins that pull and run containers (no local snapshotter: every snapshot
// comes from the proxy), and Debian's ctr against it.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { localContentPlugin } from "@berth/content-local";
import { defaultServerConfig, type PluginRegistration, type ServerConfig } from "@berth/core";
import { startDaemon, type Daemon } from "@berth/daemon";
import { walkingDifferPlugin } from "@berth/differ";
import { eventsGrpcPlugin, exchangePlugin } from "@berth/events";
import { lmdbMetadataPlugin } from "@berth/metadata-lmdb";
import { runtimeV2TaskPlugin } from "@berth/runtime-v2";
import { servicePlugins } from "@berth/services";
import { exec, mountsBelow, testLogger, type Ctr, type TestRegistry } from "@berth/testing";

/** The SDK's bin, built (tests run against dist, as berthd and containerd would). */
export const PROXY_BIN = resolve(import.meta.dirname, "..", "dist", "bin", "berth-snapshotter-proxy.js");
/** berthd's script, which shims run as their -publish-binary. */
export const BERTHD = join(dirname(createRequire(import.meta.url).resolve("@berth/daemon")), "bin", "berthd.js");

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Removes `dir` after unmounting whatever is still mounted below it. */
export async function removeDir(dir: string): Promise<void> {
  for (const m of await mountsBelow(dir)) await exec("umount", ["-l", m]).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}

/** berth-snapshotter-proxy running as its own process. */
export interface ProxyProcess {
  readonly address: string;
  readonly root: string;
  /** SIGKILL, as a crash: the socket file stays behind. */
  kill(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
}

export async function startProxyProcess(address: string, root: string): Promise<ProxyProcess> {
  await stat(PROXY_BIN).catch(() => {
    throw new Error(`${PROXY_BIN} is missing: build @berth/plugin-sdk first (cd packages/plugin-sdk && npx tsc -p .)`);
  });
  const child: ChildProcess = spawn(process.execPath, [PROXY_BIN, "--address", address, "--root", root], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  // Ready when it says so on stderr (the socket is bound before it prints).
  for (let i = 0; !stderr.includes("serving"); i++) {
    if (child.exitCode !== null || i > 600) throw new Error(`berth-snapshotter-proxy did not start: ${stderr}`);
    await sleep(50);
  }
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return { address, root, kill: () => end("SIGKILL"), stop: () => end("SIGTERM") };
}

/** berth-snapshotter-proxy on `p.sock` in `dir`, keeping its snapshots in `dir/proxy-root`. */
export const startProxyIn = (dir: string): Promise<ProxyProcess> => startProxyProcess(join(dir, "p.sock"), join(dir, "proxy-root"));

/** What an end-to-end test brought up; any part is missing when setup failed before it. */
export interface TestBed {
  dir?: string | undefined;
  registry?: TestRegistry | undefined;
  proxy?: ProxyProcess | undefined;
  /** The daemon under test (berthd or containerd) and the ctr that drives it. */
  daemon?: { ctr: Ctr; close(): Promise<void> } | undefined;
}

/**
 * Takes down whatever a test brought up, daemon first (its tasks and containers removed, so no
 * shim outlives the test), then the proxy, the registry and the directory.
 */
export async function tearDown(bed: TestBed): Promise<void> {
  if (bed.daemon) {
    await clearNamespace(bed.daemon.ctr);
    await bed.daemon.close();
  }
  await bed.proxy?.stop();
  await bed.registry?.stop();
  if (bed.dir) await removeDir(bed.dir);
}

/** Every plugin a daemon that pulls and runs containers needs, except any snapshotter. */
export function daemonPlugins(): PluginRegistration[] {
  return [localContentPlugin, lmdbMetadataPlugin, walkingDifferPlugin, exchangePlugin, eventsGrpcPlugin, ...servicePlugins, runtimeV2TaskPlugin] as PluginRegistration[];
}

/** A daemon config living in `dir` (short socket path, for sun_path). */
export function configIn(dir: string): ServerConfig {
  const config = defaultServerConfig();
  config.root = join(dir, "root");
  config.state = join(dir, "state");
  config.grpc.address = join(dir, "b.sock");
  config.plugins["io.containerd.runtime.v2.task"] = { publish_binary: BERTHD };
  return config;
}

export function startBerthd(config: ServerConfig): Promise<Daemon> {
  return startDaemon({ plugins: daemonPlugins(), config, log: testLogger() });
}

/** Rows of a ctr table, header dropped, split on whitespace. */
export const rows = (table: string) =>
  table
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.trim().split(/\s+/));

/** Removes every task, container and image in `ns` through `ctr`, so no shim outlives a test. */
export async function clearNamespace(ctr: (...args: string[]) => Promise<string>): Promise<void> {
  for (const row of rows(await ctr("tasks", "ls").catch(() => "x\n"))) await ctr("tasks", "rm", "-f", row[0]!).catch(() => "");
  for (const id of (await ctr("containers", "ls", "-q").catch(() => "")).split("\n").filter(Boolean)) await ctr("containers", "rm", id).catch(() => "");
}

/** Polls `check` until it stops throwing (a reconnecting channel), at most `tries` times. */
export async function eventually<T>(check: () => Promise<T>, tries = 100): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await check();
    } catch (err) {
      if (i >= tries) throw err;
      await sleep(100);
    }
  }
}
