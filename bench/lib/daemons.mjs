// The two daemons under test, each with a private root, state and socket: Debian's containerd
// (own config, CRI off unless asked for) and berthd from this checkout. Both are driven through
// the same ctr; in CRI mode both get the same CRI section (lib/cri.mjs).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { criConfigSection, writeCriFiles } from "./cri.mjs";
import { NotAvailable, rethrowUnimplemented } from "./errors.mjs";
import { run, runOk, sleep, startProcess } from "./proc.mjs";
import { shimsOf } from "./sys.mjs";

/** Where containerd 1.6's shims put their ttrpc sockets (a hash of address/namespace/id). */
const SHIM_SOCKET_DIR = "/run/containerd/s";

let clientModule;
async function clientLib() {
  clientModule ??= await import("@berth/client");
  return clientModule;
}

/**
 * @typedef {object} Daemon
 * @property {"containerd"|"berth"} kind
 * @property {string} address  gRPC socket
 * @property {string} dir      everything it owns lives here
 * @property {number} pid      the daemon process (for memory figures)
 * @property {string} runcRoot private runc state for containers started through ctr
 * @property {string} fifoDir  private directory for ctr's stdio FIFOs
 */

/**
 * The CRI files for a daemon under `dir` when `opts.cri` asks for them: its config section and
 * its network (whose bridge the caller deletes after the daemon stops).
 */
async function criMode(ctx, dir, kind, state, opts) {
  if (!opts.cri) return undefined;
  const files = await writeCriFiles(ctx, dir, kind);
  // netns: every pod netns the harness saw, for the clean-up to check (lib/cri.mjs).
  return { ...files, section: criConfigSection({ ...files, runcRoot: runcRootOf(state) }), netns: new Set() };
}

/** Where containers started against a daemon keep their runc state (ctr --runc-root, the CRI's runc option Root). */
const runcRootOf = (state) => join(state, "bench-runc");

/** Starts containerd with a private config under `dir`; `opts.cri` enables its CRI plugin (lib/cri.mjs). */
export async function startContainerd(ctx, dir, opts = {}) {
  mkdirSync(dir, { recursive: true });
  const root = join(dir, "root");
  const state = join(dir, "state");
  const address = join(dir, "containerd.sock");
  const config = join(dir, "config.toml");
  const cri = await criMode(ctx, dir, "containerd", state, opts);
  const q = JSON.stringify;
  writeFileSync(
    config,
    [
      "# Written by bench/lib/daemons.mjs: a private containerd next to (never instead of) a system one.",
      "version = 2",
      `root = ${q(root)}`,
      `state = ${q(state)}`,
      ...(cri ? [] : ['disabled_plugins = ["io.containerd.grpc.v1.cri"]']),
      "",
      "[grpc]",
      `  address = ${q(address)}`,
      "",
      "[ttrpc]",
      `  address = ${q(address + ".ttrpc")}`,
      "",
      "[debug]",
      '  address = ""',
      '  level = "warn"',
      "",
      "[metrics]",
      '  address = ""',
      "",
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = ${q(join(dir, "opt"))}`,
      "",
      ...(cri ? [cri.section] : []),
    ].join("\n"),
  );
  const proc = startProcess(ctx.bin.containerd, ["--config", config], { logFile: join(dir, "containerd.log") });
  return finishStart(ctx, { kind: "containerd", dir, root, state, address, proc, log: join(dir, "containerd.log"), cri });
}

/**
 * Starts berthd from this checkout with a private root, state and socket under `dir`; with
 * `opts.cri`, a config file holds the same CRI section containerd gets (without, no config file).
 */
export async function startBerthd(ctx, dir, opts = {}) {
  mkdirSync(dir, { recursive: true });
  const root = join(dir, "root");
  const state = join(dir, "state");
  const address = join(dir, "berthd.sock");
  const log = join(dir, "berthd.log");
  const cri = await criMode(ctx, dir, "berth", state, opts);
  const configArgs = [];
  if (cri) {
    const config = join(dir, "config.toml");
    writeFileSync(config, ["# Written by bench/lib/daemons.mjs (CRI mode).", "version = 2", "", cri.section].join("\n"));
    configArgs.push("--config", config);
  }
  const args = [...configArgs, "--root", root, "--state", state, "--address", address, "--log-level", "warn"];
  const proc = startProcess(ctx.bin.berthd, args, {
    logFile: log,
    cwd: ctx.repo, // berthd also loads plugin packages installed beside its working directory
  });
  return finishStart(ctx, { kind: "berth", dir, root, state, address, proc, log, cri });
}

async function finishStart(ctx, d) {
  const clients = new Map();
  /** @type {Daemon & Record<string, any>} */
  const daemon = {
    ...d,
    pid: d.proc.pid,
    runcRoot: runcRootOf(d.state),
    fifoDir: join(d.state, "bench-fifo"),
    /** ctr against this daemon in namespace `ns`; resolves with the result, never throws on exit codes. */
    ctr: (ns, args, opts) => run(ctx.bin.ctr, ["-a", d.address, "-n", ns, ...args], opts),
    /** ctr that must succeed: Unimplemented becomes NotAvailable, other failures CommandError. */
    ctrOk: async (ns, args, opts) => {
      try {
        return await runOk(ctx.bin.ctr, ["-a", d.address, "-n", ns, ...args], opts);
      } catch (err) {
        rethrowUnimplemented(err);
      }
    },
    /** A gRPC client (@berth/client) in namespace `ns`. */
    client: async (ns) => {
      if (!clients.has(ns)) {
        const { createClient } = await clientLib();
        clients.set(ns, createClient({ address: d.address, namespace: ns, timeoutMs: 300_000 }));
      }
      return clients.get(ns);
    },
    /** Stops the daemon: clients closed, SIGTERM, SIGKILL after 15 s. */
    stop: async () => {
      for (const c of clients.values()) c.close();
      clients.clear();
      await d.proc.stop(15_000);
    },
  };
  await waitReady(ctx, daemon);
  return daemon;
}

async function waitReady(ctx, daemon) {
  const deadline = Date.now() + 30_000;
  let last = "";
  while (Date.now() < deadline) {
    if (!daemon.proc.running) {
      throw new Error(`${daemon.kind} exited during start-up; log ${daemon.log}:\n${tail(daemon.log)}`);
    }
    if (existsSync(daemon.address)) {
      const res = await run(ctx.bin.ctr, ["-a", daemon.address, "version"], { timeoutMs: 10_000 });
      if (res.code === 0) return;
      last = res.stderr.trim();
    }
    await sleep(50);
  }
  await daemon.proc.stop(2_000);
  throw new Error(`${daemon.kind} did not answer on ${daemon.address} within 30 s (${last}); log:\n${tail(daemon.log)}`);
}

function tail(file, lines = 15) {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * The safety net for containers started against `daemon`: every container in its private runc
 * root is force-deleted (killing its processes), then any shim still serving its socket is
 * killed and the shim's socket in /run/containerd/s removed.
 */
export async function reapContainers(ctx, daemon) {
  await reapRuncRoot(ctx, daemon.runcRoot);
  reapShims(daemon.address);
}

/** runc delete -f for every container in a runc root (its own subdirectories included). */
export async function reapRuncRoot(ctx, runcRoot) {
  if (!existsSync(runcRoot)) return;
  // containerd's shim adds the namespace below the root it is given.
  const roots = [runcRoot];
  for (const e of readdirSync(runcRoot, { withFileTypes: true })) {
    if (e.isDirectory() && !existsSync(join(runcRoot, e.name, "state.json"))) roots.push(join(runcRoot, e.name));
  }
  for (const root of roots) {
    const list = await run(ctx.bin.runc, ["--root", root, "list", "-q"]);
    if (list.code !== 0) continue;
    for (const id of list.stdout.split("\n").filter(Boolean)) {
      await run(ctx.bin.runc, ["--root", root, "delete", "-f", id]);
    }
  }
}

/** Kills shims whose command line names `address`; removes their sockets. Returns how many. */
export function reapShims(address) {
  const shims = shimsOf(address);
  for (const p of shims) {
    const arg = (name) => {
      const i = p.argv.findIndex((a) => a === `-${name}` || a === `--${name}`);
      return i >= 0 ? p.argv[i + 1] : undefined;
    };
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {}
    const ns = arg("namespace");
    const id = arg("id");
    const addr = arg("address");
    if (ns && id && addr) {
      const hash = createHash("sha256").update(join(addr, ns, id)).digest("hex");
      rmSync(join(SHIM_SOCKET_DIR, hash), { force: true });
    }
  }
  return shims.length;
}

/** Whether the daemon lists a plugin of `type` with status ok (introspection), cached per daemon. */
export async function hasPlugin(daemon, type) {
  daemon.pluginTypes ??= (async () => {
    const client = await daemon.client("default");
    return new Set((await client.plugins()).filter((p) => p.status === "ok").map((p) => p.type));
  })();
  return (await daemon.pluginTypes).has(type);
}

/** A synchronous garbage collection: create a lease and delete it with sync=true. */
export async function syncGc(daemon, ns) {
  const { leasesApi } = await import("@berth/api");
  const client = await daemon.client(ns);
  const leases = client.service(leasesApi.Leases);
  const id = `bench-gc-${process.pid}-${Date.now()}`;
  try {
    await leases.create({ id, labels: {} });
    await leases.delete({ id, sync: true });
  } catch (err) {
    rethrowUnimplemented(err);
  }
}

export { NotAvailable };
