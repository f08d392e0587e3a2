// Containers through ctr (either daemon) and bare runc bundles for the floors.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pool, run, runOk } from "./proc.mjs";

/** The cgroup parent of the bare-runc floor containers. */
export const FLOOR_CGROUP = "berth-bench-floor";

/** ctr run flags that keep runc state and stdio FIFOs inside the daemon's private directory. */
export function ctrRunFlags(daemon) {
  return ["--runc-root", daemon.runcRoot, "--fifo-dir", daemon.fifoDir];
}

/** ctr run -d of a long sleep: the container stays running until removed. */
export function startDetached(daemon, ns, image, id) {
  return daemon.ctrOk(ns, ["run", "-d", "--null-io", ...ctrRunFlags(daemon), image, id, "sleep", "3600"]);
}

/** IDs of tasks in RUNNING state, from `ctr tasks ls`. */
export async function runningTasks(daemon, ns) {
  const res = await daemon.ctrOk(ns, ["tasks", "ls"]);
  return new Set(
    res.stdout
      .split("\n")
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[2] === "RUNNING")
      .map((f) => f[0]),
  );
}

/** Force-deletes tasks and containers (with their snapshots); errors are ignored here and caught by the safety net. */
export async function removeContainers(daemon, ns, ids) {
  await pool(ids, 8, async (id) => {
    await daemon.ctr(ns, ["tasks", "rm", "-f", id]);
    await daemon.ctr(ns, ["containers", "rm", id]);
  });
}

/**
 * Bare runc: a rootfs unpacked once from tiny's layer, and a bundle per container whose
 * config.json (from `runc spec`) points at it read-only.
 */
export class RuncFloor {
  constructor(ctx) {
    this.ctx = ctx;
    this.dir = join(ctx.tmp, "runc-floor");
    this.root = join(this.dir, "state");
    this.rootfs = join(this.dir, "rootfs");
    this.template = undefined;
  }

  async init() {
    if (this.template) return;
    mkdirSync(this.rootfs, { recursive: true });
    mkdirSync(this.root, { recursive: true });
    await runOk("tar", ["-xzf", this.ctx.fx.tinyLayer, "-C", this.rootfs]);
    const specDir = join(this.dir, "spec");
    mkdirSync(specDir, { recursive: true });
    await runOk(this.ctx.bin.runc, ["spec", "--bundle", specDir]);
    this.template = JSON.parse(readFileSync(join(specDir, "config.json"), "utf8"));
  }

  /** A bundle for container `id` running `args`; returns its directory. */
  bundle(id, args) {
    const spec = structuredClone(this.template);
    spec.root = { path: this.rootfs, readonly: true };
    spec.process.args = args;
    spec.process.terminal = false;
    spec.hostname = id.slice(0, 63);
    spec.linux.cgroupsPath = `/${FLOOR_CGROUP}/${id}`;
    const dir = join(this.dir, "bundles", id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "config.json"), JSON.stringify(spec));
    return dir;
  }

  runc(args, opts) {
    return run(this.ctx.bin.runc, ["--root", this.root, ...args], opts);
  }

  async runcOk(args, opts) {
    return runOk(this.ctx.bin.runc, ["--root", this.root, ...args], opts);
  }

  async remove(ids) {
    await pool(ids, 8, (id) => this.runc(["delete", "-f", id]));
    for (const id of ids) rmSync(join(this.dir, "bundles", id), { recursive: true, force: true });
  }
}
