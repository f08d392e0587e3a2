import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createClient, type BerthClient } from "@berth/client";
import { defaultServerConfig, type PluginRegistration, type ServerConfig } from "@berth/core";
import { eventsGrpcPlugin, exchangePlugin } from "@berth/events";
import { startDaemon, type Daemon } from "../src/index.js";

export const exec = promisify(execFile);

/** The berthd entry built from this package; tests run the real binary. */
export const BERTHD = join(import.meta.dirname, "..", "dist", "bin", "berthd.js");

/** Fails (never skips) when a tool the test drives is missing, saying how to get it. */
export async function requireTool(tool: string, debianPackage: string): Promise<void> {
  try {
    await exec("sh", ["-c", `command -v ${tool}`]);
  } catch {
    throw new Error(`${tool} is required for this test (Debian package ${debianPackage}); run scripts/setup.sh`);
  }
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error("this test needs root (it chowns sockets and locks roots); run it as root");
}

export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "berth-test-"));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export function configIn(dir: string, patch: (c: ServerConfig) => void = () => {}): ServerConfig {
  const config = defaultServerConfig();
  config.root = join(dir, "root");
  config.state = join(dir, "state");
  config.grpc.address = join(dir, "berthd.sock");
  patch(config);
  return config;
}

export interface TestDaemon {
  daemon: Daemon;
  client: BerthClient;
  dir: string;
  dispose(): Promise<void>;
}

/** An in-process daemon with the event plugins plus `plugins`, in a fresh temp dir. */
export async function startTestDaemon(plugins: readonly PluginRegistration[] = [], patch?: (c: ServerConfig) => void): Promise<TestDaemon> {
  const dir = await tempDir();
  const daemon = await startDaemon({ plugins: [exchangePlugin, eventsGrpcPlugin, ...plugins], config: configIn(dir.path, patch) });
  const client = createClient({ address: daemon.address, namespace: "default", timeoutMs: 5_000 });
  return {
    daemon,
    client,
    dir: dir.path,
    async dispose() {
      client.close();
      await daemon.close();
      await dir.remove();
    },
  };
}

/** Runs berthd as a child process; resolves once its socket answers. */
export async function spawnBerthd(args: string[], socket: string, opts: { cwd?: string } = {}): Promise<ChildProcess & { output: () => string }> {
  const child = spawn(process.execPath, [BERTHD, ...args], { cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const client = createClient({ address: socket, timeoutMs: 500 });
  try {
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) throw new Error(`berthd exited with ${child.exitCode}: ${output}`);
      try {
        await client.version();
        return Object.assign(child, { output: () => output });
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    child.kill("SIGKILL");
    throw new Error(`berthd did not answer on ${socket}: ${output}`);
  } finally {
    client.close();
  }
}

export function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}
