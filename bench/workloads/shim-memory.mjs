#!/usr/bin/env node
// Memory per running container: Berth's shim (containerd-shim-berth-v2) against Debian's
// containerd-shim-runc-v2, both under one private Debian containerd, so that only the shim
// differs. Standalone (not in run.mjs's list: it compares runtimes under one daemon, not two
// daemons):
//
//   node bench/workloads/shim-memory.mjs [--containers 10] [--runs 3]
//
// Three ways to run N `sleep` containers (`ctr run -d --null-io tiny`), each in its own
// namespace, one after the other:
//   runc            io.containerd.runc.v2: one Go shim per container
//   berth-per-ctr   io.containerd.berth.v2: one Node shim per container (containerd's grouping)
//   berth-shared    io.containerd.berth.v2, every container annotated with one group: one shim
// For each: (daemon + shims after) − (daemon before), divided by N, as RSS, PSS and USS (private
// pages: what the kernel frees when the process goes). PSS charges a shared page to every process
// mapping it: a Node shim shares Node's own pages with any other Node process (berthd), so its
// PSS here depends on what else runs; USS does not. Needs root, containerd, ctr, runc, a built
// @berth/runtime-runc-v2 and the fixture images (bash ../shared/fixtures/build-images.sh).
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { run, runOk, sleep, which } from "../lib/proc.mjs";
import { listProcesses, memoryOf } from "../lib/sys.mjs";

const repo = resolve(import.meta.dirname, "../..");
const shimScript = join(repo, "packages/runtime-runc-v2/dist/bin/shim.js");
const fixtures = process.env.BERTH_FIXTURES_IMAGES ?? join(repo, ".fixtures/images");
const { values: args } = parseArgs({ options: { containers: { type: "string", default: "10" }, runs: { type: "string", default: "3" } } });
const N = Number(args.containers);
const RUNS = Number(args.runs);

const MODES = [
  { id: "runc", runtime: "io.containerd.runc.v2", extra: [] },
  { id: "berth-per-ctr", runtime: "io.containerd.berth.v2", extra: [] },
  { id: "berth-shared", runtime: "io.containerd.berth.v2", extra: ["--annotation", "io.containerd.berth.v2.group=bench"] },
];

function uss(pid) {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (name) => Number(text.match(new RegExp(`^${name}:\\s+(\\d+) kB`, "m"))?.[1] ?? 0);
  return (kb("Private_Clean") + kb("Private_Dirty")) * 1024;
}

async function main() {
  if (process.getuid() !== 0) throw new Error("run as root");
  for (const tool of ["containerd", "ctr", "runc"]) if (!(await which(tool))) throw new Error(`${tool} missing: apt-get install containerd runc`);
  if (!existsSync(shimScript)) throw new Error(`${shimScript} missing: pnpm build`);
  if (!existsSync(join(fixtures, "tiny/index.json"))) throw new Error(`fixture images missing in ${fixtures}`);

  const dir = mkdtempSync("/tmp/berth-shim-memory-");
  const socket = join(dir, "c.sock");
  const bin = join(dir, "bin");
  const daemon = { child: undefined };
  const namespaces = MODES.map((m) => `shimmem-${m.id}`);
  try {
    await runOk("mkdir", ["-p", bin]);
    writeFileSync(join(bin, "containerd-shim-berth-v2"), `#!/bin/sh\nexec ${process.execPath} ${shimScript} "$@"\n`);
    chmodSync(join(bin, "containerd-shim-berth-v2"), 0o755);
    const q = JSON.stringify;
    writeFileSync(
      join(dir, "config.toml"),
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
        '  level = "warn"',
        "[metrics]",
        '  address = ""',
        '[plugins."io.containerd.internal.v1.opt"]',
        `  path = ${q(join(dir, "opt"))}`,
      ].join("\n"),
    );
    daemon.child = spawn("containerd", ["--config", join(dir, "config.toml")], {
      // berth-per-ctr needs containerd's grouping; the shim's own default is one shim per namespace.
      env: { ...process.env, BERTH_SHIM_GROUP: "container", PATH: `${bin}:${process.env.PATH}` },
      stdio: "ignore",
    });
    for (let i = 0; i < 100 && !existsSync(socket); i++) await sleep(50);
    const ctr = (ns, rest) => runOk("ctr", ["-a", socket, "-n", ns, ...rest]);
    await runOk("tar", ["-C", join(fixtures, "tiny"), "-cf", join(dir, "tiny.tar"), "."]);
    for (const ns of namespaces) await ctr(ns, ["images", "import", "--index-name", "tiny:latest", join(dir, "tiny.tar")]);

    const shims = () => listProcesses().filter((p) => /shim/.test(p.argv[0] ?? "") && p.argv.some((a) => a.includes(socket)));
    const footprint = () => {
      const sum = { rss: 0, pss: 0, uss: 0, shims: 0 };
      for (const p of [{ pid: daemon.child.pid }, ...shims()]) {
        try {
          const m = memoryOf(p.pid);
          sum.rss += m.rss;
          sum.pss += m.pss;
          sum.uss += uss(p.pid);
          if (p.pid !== daemon.child.pid) sum.shims++;
        } catch {
          // gone meanwhile
        }
      }
      return sum;
    };

    const results = Object.fromEntries(MODES.map((m) => [m.id, []]));
    for (let r = 0; r < RUNS; r++) {
      for (const [i, mode] of MODES.entries()) {
        const ns = namespaces[i];
        for (let t = 0; t < 100 && shims().length > 0; t++) await sleep(100);
        await sleep(500);
        const before = footprint();
        const ids = Array.from({ length: N }, (_, k) => `m${r}-${k}`);
        for (const id of ids) await ctr(ns, ["run", "-d", "--null-io", "--runtime", mode.runtime, ...mode.extra, "tiny:latest", id, "sleep", "3600"]);
        await sleep(2000);
        const after = footprint();
        results[mode.id].push({
          rss: (after.rss - before.rss) / N,
          pss: (after.pss - before.pss) / N,
          uss: (after.uss - before.uss) / N,
          shims: after.shims - before.shims,
        });
        for (const id of ids) await ctr(ns, ["tasks", "kill", "-s", "SIGKILL", id]);
        for (const id of ids) {
          for (let t = 0; t < 50; t++) {
            if ((await run("ctr", ["-a", socket, "-n", ns, "tasks", "delete", id])).code === 0) break;
            await sleep(50);
          }
          await ctr(ns, ["containers", "rm", id]);
        }
      }
    }

    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const MiB = 1024 * 1024;
    console.log(`memory per running container, ${N} containers, median of ${RUNS} runs (daemon growth + shims) / N`);
    console.log("mode            shims   RSS MiB   PSS MiB   USS MiB");
    for (const mode of MODES) {
      const rows = results[mode.id];
      const cell = (k) => (median(rows.map((x) => x[k])) / MiB).toFixed(2).padStart(8);
      console.log(`${mode.id.padEnd(15)} ${String(median(rows.map((x) => x.shims))).padStart(5)} ${cell("rss")}  ${cell("pss")}  ${cell("uss")}`);
    }
  } finally {
    daemon.child?.kill("SIGTERM");
    for (const p of listProcesses().filter((p) => p.argv.some((a) => a.includes(socket)))) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {}
    }
    for (const ns of namespaces) {
      const root = `/run/containerd/runc/${ns}`;
      if (!existsSync(root)) continue;
      for (const id of readdirSync(root)) await run("runc", ["--root", root, "delete", "--force", id]);
      rmSync(root, { recursive: true, force: true });
      for (const h of readdirSync("/sys/fs/cgroup")) await run("rmdir", [join("/sys/fs/cgroup", h, ns)]);
    }
    await run("sh", ["-c", `grep -o ' ${dir}[^ ]*' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l`]);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
