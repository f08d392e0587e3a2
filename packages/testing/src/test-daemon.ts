import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJsonLogger, defaultServerConfig, isLogLevel, silentLogger, type Logger, type ServerConfig } from "@berth/core";
import { exec, requireTool } from "./tools.js";

/** What a started daemon must offer; @berth/daemon's Daemon does. */
export interface RunningDaemon {
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Starts the daemon from the config and logger it is given: `(o) => startDaemon({ ...o, plugins })`.
 * Passed in rather than imported, so that @berth/testing depends on no daemon, client or plugin
 * package and every package's tests can use it without a dependency cycle.
 */
export type DaemonStarter<D extends RunningDaemon> = (opts: { config: ServerConfig; log: Logger }) => Promise<D>;

export interface TestDaemonOptions {
  /** Changes to the config after root, state and socket are set inside the temp dir. */
  readonly config?: (config: ServerConfig, dir: string) => void | Promise<void>;
}

export interface TestDaemon<D extends RunningDaemon> {
  readonly daemon: D;
  /** The daemon's socket. */
  readonly address: string;
  /** The temp dir holding root/, state/ and the socket; removed by dispose. */
  readonly dir: string;
  /** Runs Debian's `ctr -a <socket> …args` (fails, naming the package, if ctr is missing). */
  ctr(...args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** Closes the daemon and removes the temp dir; safe to call twice. */
  dispose(): Promise<void>;
}

/**
 * berthd in this process, in a fresh temp dir (root, state, socket inside it), started by
 * `start`. BERTH_TEST_LOG=<level> shows the daemon's log on stderr.
 */
export async function startTestDaemon<D extends RunningDaemon>(start: DaemonStarter<D>, opts: TestDaemonOptions = {}): Promise<TestDaemon<D>> {
  const dir = await mkdtemp(join(tmpdir(), "berth-daemon-"));
  let daemon: D;
  try {
    const config = defaultServerConfig();
    config.root = join(dir, "root");
    config.state = join(dir, "state");
    config.grpc.address = join(dir, "berthd.sock");
    await opts.config?.(config, dir);
    daemon = await start({ config, log: testLogger() });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  let disposed: Promise<void> | undefined;
  return {
    daemon,
    address: daemon.address,
    dir,
    async ctr(...args) {
      await requireTool("ctr", "containerd");
      return exec("ctr", ["-a", daemon.address, ...args], { maxBuffer: 64 << 20 });
    },
    dispose() {
      disposed ??= (async () => {
        await daemon.close();
        await rm(dir, { recursive: true, force: true });
      })();
      return disposed;
    },
  };
}

/** The daemon's log on stderr at BERTH_TEST_LOG's level; silent otherwise. */
export function testLogger(): Logger {
  const level = process.env["BERTH_TEST_LOG"] ?? "";
  return isLogLevel(level) ? createJsonLogger({ level }) : silentLogger;
}
