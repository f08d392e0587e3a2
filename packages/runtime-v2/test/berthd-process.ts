// The real berthd as a child process, finding this package and the other plugin packages the
// way it does in production: through node_modules beside its working directory.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, symlink } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { BERTHD, run } from "./harness.js";

const PACKAGES = resolve(import.meta.dirname, "..", "..");
/** What a daemon that runs containers loads, besides what the repository root installs. */
const PLUGIN_PACKAGES = ["runtime-v2", "differ", "services", "events", "content-local", "metadata-lmdb", "snapshot-overlay"];

/** A working directory whose node_modules holds the plugin packages (as an installed berthd has them). */
export async function pluginApp(dir: string): Promise<string> {
  const app = join(dir, "app");
  for (const name of PLUGIN_PACKAGES) {
    const link = join(app, "node_modules", "@berth", name);
    await mkdir(dirname(link), { recursive: true });
    await symlink(join(PACKAGES, name), link);
  }
  return app;
}

export interface BerthdProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
}

/** Starts berthd in `app` with root/state/socket under `dir`; resolves once it answers ctr. */
export async function startBerthd(dir: string, app: string): Promise<BerthdProcess> {
  const address = join(dir, "b.sock");
  const child = spawn(
    process.execPath,
    [BERTHD, "--root", join(dir, "root"), "--state", join(dir, "state"), "--address", address, "--log-level", process.env["BERTH_TEST_LOG"] ?? "info"],
    { cwd: app, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`berthd exited (${child.exitCode ?? child.signalCode}): ${output}`);
    try {
      await run("ctr", ["-a", address, "version"], { timeout: 5_000 });
      break;
    } catch {
      await sleep(50); // not serving yet
    }
  }
  if (process.env["BERTH_TEST_LOG"]) child.stderr!.on("data", (d: Buffer) => process.stderr.write(d));
  return { child, output: () => output, exited };
}
