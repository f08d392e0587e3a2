// What each running container costs in memory: daemon growth plus its shim(s), PSS and RSS.
import { pool, sleep } from "../lib/proc.mjs";
import { ctrRunFlags, removeContainers, runningTasks, startDetached } from "../lib/containers.mjs";
import { MiB } from "../lib/stats.mjs";
import { memoryOf, shimsOf } from "../lib/sys.mjs";

const NS = "berth-bench";
/** Berth's own shim, berthd's default runtime; ctr names io.containerd.runc.v2 unless told otherwise. */
const BERTH_RUNTIME = "io.containerd.berth.v2";

/** Daemon plus every shim serving its socket. */
function footprint(daemon) {
  const shims = shimsOf(daemon.address);
  let pss = 0;
  let rss = 0;
  let counted = 0;
  for (const shim of shims) {
    try {
      const m = memoryOf(shim.pid);
      pss += m.pss;
      rss += m.rss;
      counted++;
    } catch {
      // exited between listing and reading
    }
  }
  const m = memoryOf(daemon.pid);
  return { pss: pss + m.pss, rss: rss + m.rss, shims: counted };
}

/** (after − before) / N for N containers run with `runtime` (else ctr's default), in MiB. */
async function perContainer(ctx, daemon, runtime) {
  const n = ctx.smoke ? 3 : 10;
  const ids = Array.from({ length: n }, () => ctx.uniq("mem"));
  const start = (id) =>
    runtime
      ? daemon.ctrOk(NS, ["run", "-d", "--null-io", ...ctrRunFlags(daemon), "--runtime", runtime, ctx.fx.tiny, id, "sleep", "3600"])
      : startDetached(daemon, NS, ctx.fx.tiny, id);
  try {
    // Shims of containers removed earlier may still be on their way out; berthd keeps an idle
    // Berth group shim for 10 s, and a figure must include the whole of the shim it starts.
    for (let t = 0; t < 150 && shimsOf(daemon.address).length > 0; t++) await sleep(100);
    if (shimsOf(daemon.address).length > 0) throw new Error("shims from before are still running");
    await sleep(300);
    const before = footprint(daemon);
    await pool(ids, 4, start);
    const running = await runningTasks(daemon, NS);
    if (ids.some((id) => !running.has(id))) throw new Error("not every container is RUNNING");
    await sleep(2000);
    const after = footprint(daemon);
    // containerd runs one shim per container here; finding none would mean the shim search is broken.
    if (daemon.kind === "containerd" && after.shims - before.shims !== n) {
      throw new Error(`found ${after.shims - before.shims} new shims for ${n} containers`);
    }
    if (after.shims === 0) throw new Error(`found no shim for ${n} running containers`);
    return { pss: (after.pss - before.pss) / n / MiB, rss: (after.rss - before.rss) / n / MiB };
  } finally {
    await removeContainers(daemon, NS, ids);
  }
}

export default {
  id: "memory-per-container",
  title: "memory per running container",
  description:
    "N containers (`ctr run -d --null-io tiny ID sleep 3600`; N = 10, 3 in smoke mode) started; after they settle (2 s) the " +
    "daemon's and all its shims' memory is read from /proc/PID/smaps_rollup and compared with before: (after − before) / N. " +
    "Shims are the processes whose program name contains `shim` and whose command line names the daemon's socket. " +
    "The containers' own processes (busybox sleep) are not counted. PSS splits shared pages between the processes that map " +
    "them (the fair per-container cost); RSS counts them in every shim. Rows as for run --rm: ctr's default runtime " +
    "(Debian's Go shim) on both daemons, then each daemon's own shim (Berth's, `--runtime io.containerd.berth.v2`: one " +
    "shim per namespace, measured from no shim at all, after berthd let the previous run's idle shim go; that row's " +
    "containerd column repeats its first-row figure).",
  metrics: [
    { key: "pss", title: "memory per running container, PSS (Go shim)", unit: "MiB", better: "lower" },
    { key: "rss", title: "memory per running container, RSS (Go shim)", unit: "MiB", better: "lower" },
    { key: "pssOwn", title: "memory per running container, PSS (each daemon's own shim)", unit: "MiB", better: "lower" },
    { key: "rssOwn", title: "memory per running container, RSS (each daemon's own shim)", unit: "MiB", better: "lower" },
  ],
  runs: { full: 5, smoke: 1 },
  async prepare(ctx, daemon) {
    await ctx.ensureImage(daemon, NS, ctx.fx.tiny);
  },
  async measure(ctx, daemon) {
    const go = await perContainer(ctx, daemon, undefined);
    const own = daemon.kind === "berth" ? await perContainer(ctx, daemon, BERTH_RUNTIME) : go;
    return { pss: go.pss, rss: go.rss, pssOwn: own.pss, rssOwn: own.rss };
  },
};
