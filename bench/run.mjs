#!/usr/bin/env node
// pnpm bench [--smoke] [--runs N] [--only ID,ID] [--update-readme]
//
// Berth side by side with Debian's containerd: builds the fixtures, starts the fixture
// registry, containerd and berthd (private roots and sockets), runs every workload against
// both (interleaved), prints a table, writes bench/results/latest.json, cleans up.
import { existsSync, mkdtempSync, readdirSync, rmSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { installExitHandlers, onCleanup, runCleanup } from "./lib/cleanup.mjs";
import { RuncFloor, FLOOR_CGROUP } from "./lib/containers.mjs";
import { CRI_CGROUP_PARENT, criAfterStop, criBeforeStop } from "./lib/cri.mjs";
import { reapRuncRoot, reapShims, startBerthd, startContainerd } from "./lib/daemons.mjs";
import { ensureBerthBuilt, ensurePackages, machineInfo, requireRoot, startFixtures } from "./lib/env.mjs";
import { errorText } from "./lib/errors.mjs";
import { header, notes, table, updateReadme, writeJson } from "./lib/report.mjs";
import { runWorkload } from "./lib/runner.mjs";
import { cgroupDirs, cgroupPids, mountsMentioning, removeCgroupTree, shimsOf, unmountAll } from "./lib/sys.mjs";

import version from "./workloads/version.mjs";
import berthVersion from "./workloads/berth-version.mjs";
import idleRss from "./workloads/idle-rss.mjs";
import pull from "./workloads/pull.mjs";
import apply from "./workloads/apply.mjs";
import runRm from "./workloads/run-rm.mjs";
import start20 from "./workloads/start20.mjs";
import memory from "./workloads/memory.mjs";
import ingest from "./workloads/ingest.mjs";
import snapshots from "./workloads/snapshots.mjs";
import gc from "./workloads/gc.mjs";
import criPods from "./workloads/cri-pods.mjs";

/** In this order: the cold pull comes before anything else pulls (containerd shares blobs across namespaces). */
export const WORKLOADS = [version, berthVersion, idleRss, pull, apply, runRm, start20, memory, ingest, snapshots, gc, criPods];

/** Namespaces the workloads use: their cgroups (/NS/ID under each hierarchy) are removed at the end. */
const NAMESPACES = ["berth-bench", "berth-bench-pull", "berth-bench-apply", "berth-bench-ingest", "berth-bench-snapshots", "berth-bench-gc"];

const USAGE = `pnpm bench [options]      (as root)

  --smoke            one quick iteration of each workload with smaller sizes (what CI runs)
  --runs N           runs per workload (default: per workload, 3-15 in full mode)
  --only ID[,ID…]    run only these workloads: ${WORKLOADS.map((w) => w.id).join(", ")}
  --update-readme    write the table into bench/README.md
  -h, --help

Environment: BERTH_FIXTURES (default ../shared/fixtures), BERTH_BENCH_REGISTRY_PORT
(default 5055, next free port), BERTH_BENCH_TMPDIR (default the system temp dir).
`;

const benchDir = import.meta.dirname;
const repo = resolve(benchDir, "..");
const log = (msg) => process.stderr.write(`${msg}\n`);

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === "--") args.shift(); // `pnpm bench -- --smoke`
  const { values } = parseArgs({
    args,
    options: {
      smoke: { type: "boolean", default: false },
      runs: { type: "string" },
      only: { type: "string" },
      "update-readme": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const mode = values.smoke ? "smoke" : "full";
  const runs = values.runs ? Number(values.runs) : undefined;
  if (runs !== undefined && !(Number.isInteger(runs) && runs > 0)) throw new Error(`--runs wants a positive integer, got ${values.runs}`);
  const only = values.only?.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = only?.filter((id) => !WORKLOADS.some((w) => w.id === id)) ?? [];
  if (unknown.length) throw new Error(`unknown workload ${unknown.join(", ")}; known: ${WORKLOADS.map((w) => w.id).join(", ")}`);
  const workloads = only ? WORKLOADS.filter((w) => only.includes(w.id)) : WORKLOADS;

  requireRoot();
  installExitHandlers(log);
  const started = performance.now();
  const date = new Date().toISOString();

  const bin = await ensurePackages(log);
  Object.assign(bin, await ensureBerthBuilt(repo, log));
  const fx = await startFixtures(repo, log);

  const tmp = mkdtempSync(join(process.env.BERTH_BENCH_TMPDIR ?? tmpdir(), "berth-bench-"));
  const runContainerdExisted = existsSync("/run/containerd");
  const shimDirExisted = existsSync("/run/containerd/s");
  onCleanup("remove the private directories", async () => {
    const left = await unmountAll(tmp);
    if (left.length) log(`clean-up: still mounted: ${left.join(", ")}`);
    rmSync(tmp, { recursive: true, force: true });
    // containerd's shims keep their sockets in /run/containerd/s; drop what we created, if empty.
    if (!shimDirExisted) tryRmdir("/run/containerd/s");
    if (!runContainerdExisted) removeEmptyDirs("/run/containerd");
    // Per-namespace cgroup parents, and the floor's.
    for (const name of [...NAMESPACES, FLOOR_CGROUP, CRI_CGROUP_PARENT]) {
      for (const dir of cgroupDirs(name)) {
        for (const pid of cgroupPids(dir)) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {}
        }
        removeCgroupTree(dir);
      }
    }
  });

  let uniqCounter = 0;
  const ctx = {
    mode,
    smoke: mode === "smoke",
    runs,
    repo,
    tmp,
    bin,
    fx,
    log,
    daemons: [],
    /** A unique, short container/snapshot/lease ID. */
    uniq: (prefix) => `${prefix}-${process.pid.toString(36)}-${(uniqCounter++).toString(36)}`,
    /**
     * Starts a daemon of `kind` under `dir`; its stop (and a sweep of its shims and mounts) is
     * registered for clean-up. `opts.cri`: the CRI mode (lib/cri.mjs), only for CRI workloads.
     */
    launch: async (kind, dir, opts = {}) => {
      const daemon = kind === "containerd" ? await startContainerd(ctx, dir, opts) : await startBerthd(ctx, dir, opts);
      daemon.release = onCleanup(`stop ${kind} in ${dir}`, async () => {
        // Pods go through the CRI first, while the daemon runs, so CNI gives back IPs and netns.
        if (daemon.cri) await criBeforeStop(daemon, log);
        await reapRuncRoot(ctx, daemon.runcRoot);
        await daemon.stop();
        const killed = reapShims(daemon.address);
        if (killed) log(`clean-up: killed ${killed} leftover shim(s) of ${daemon.address}`);
        await unmountAll(dir);
        if (daemon.cri) await criAfterStop(daemon, log);
      });
      return daemon;
    },
    /** Pulls `ref` into `ns` once per daemon (untimed set-up for the runtime workloads). */
    ensureImage: (() => {
      const pulled = new Map();
      return (daemon, ns, ref) => {
        const key = `${daemon.address} ${ns} ${ref}`;
        if (!pulled.has(key)) {
          pulled.set(key, daemon.ctrOk(ns, ["images", "pull", "--plain-http", ref], { stdout: "ignore" }));
        }
        return pulled.get(key);
      };
    })(),
  };
  ctx.runcFloor = new RuncFloor(ctx);
  onCleanup("remove bare runc containers", () => reapRuncRoot(ctx, ctx.runcFloor.root));

  log(`private directories in ${tmp}`);
  const containerd = await ctx.launch("containerd", join(tmp, "containerd"));
  const berth = await ctx.launch("berth", join(tmp, "berth"));
  ctx.daemons = [containerd, berth];
  log(`containerd pid ${containerd.pid} on ${containerd.address}; berthd pid ${berth.pid} on ${berth.address}`);

  const machine = await machineInfo(bin, repo, tmp);
  const records = [];
  for (const w of workloads) records.push(...(await runWorkload(ctx, w)));

  const runsNote = runs ? `${runs} run(s) each` : mode === "smoke" ? "1 run each" : "3–15 runs each, interleaved";
  const meta = { date, mode, runsNote, machine, seconds: Math.round((performance.now() - started) / 100) / 10 };

  // Stop everything before reporting, so a clean-up problem shows up next to the results.
  await runCleanup(log);
  const leftovers = checkClean(tmp, [containerd, berth]);
  meta.seconds = Math.round((performance.now() - started) / 100) / 10;

  const jsonPath = join(benchDir, "results/latest.json");
  writeJson(jsonPath, meta, records);
  if (values["update-readme"]) updateReadme(join(benchDir, "README.md"), meta, records);

  process.stdout.write(`\n${header(meta)}\n\n${table(records)}\n`);
  const n = notes(records);
  if (n) process.stdout.write(`\n${n}\n`);
  process.stdout.write(`\nwrote ${jsonPath}${values["update-readme"] ? " and bench/README.md" : ""} (${meta.seconds} s)\n`);

  const errors = records.filter((r) => Object.values(r.status).includes("error"));
  if (leftovers.length) log(`\nnot cleaned up:\n  ${leftovers.join("\n  ")}`);
  if (errors.length) log(`\n${errors.length} figure(s) failed; see the notes above`);
  return errors.length || leftovers.length ? 1 : 0;
}

/** What would show that the clean-up missed something. */
function checkClean(tmp, daemons) {
  const out = [];
  if (existsSync(tmp)) out.push(`directory ${tmp}`);
  for (const m of mountsMentioning(tmp)) out.push(`mount ${m}`);
  for (const d of daemons) {
    try {
      process.kill(d.pid, 0);
      out.push(`${d.kind} pid ${d.pid}`);
    } catch {}
    for (const s of shimsOf(d.address)) out.push(`shim pid ${s.pid} of ${d.address}`);
  }
  return out;
}

function tryRmdir(dir) {
  try {
    rmdirSync(dir);
  } catch {}
}

function removeEmptyDirs(dir) {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeEmptyDirs(join(dir, e.name));
  tryRmdir(dir);
}

main().then(
  (code) => process.exit(code),
  async (err) => {
    log(`bench: ${errorText(err)}`);
    await runCleanup(log);
    process.exit(1);
  },
);
