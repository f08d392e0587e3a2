// What each running container costs in memory: daemon growth plus its shim(s), PSS and RSS.
import { pool, sleep } from "../lib/proc.mjs";
import { removeContainers, runningTasks, startDetached } from "../lib/containers.mjs";
import { MiB } from "../lib/stats.mjs";
import { memoryOf, shimsOf } from "../lib/sys.mjs";

const NS = "berth-bench";

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

export default {
  id: "memory-per-container",
  title: "memory per running container",
  description:
    "N containers (`ctr run -d --null-io tiny ID sleep 3600`; N = 10, 3 in smoke mode) started; after they settle (2 s) the " +
    "daemon's and all its shims' memory is read from /proc/PID/smaps_rollup and compared with before: (after − before) / N. " +
    "Shims are the processes whose program name contains `shim` and whose command line names the daemon's socket. " +
    "The containers' own processes (busybox sleep) are not counted. PSS splits shared pages between the processes that map " +
    "them (the fair per-container cost); RSS counts them in every shim.",
  metrics: [
    { key: "pss", title: "memory per running container, PSS", unit: "MiB", better: "lower" },
    { key: "rss", title: "memory per running container, RSS", unit: "MiB", better: "lower" },
  ],
  runs: { full: 5, smoke: 1 },
  async prepare(ctx, daemon) {
    await ctx.ensureImage(daemon, NS, ctx.fx.tiny);
  },
  async measure(ctx, daemon) {
    const n = ctx.smoke ? 3 : 10;
    const ids = Array.from({ length: n }, () => ctx.uniq("mem"));
    try {
      // Shims of containers removed by an earlier run may still be on their way out.
      for (let t = 0; t < 50 && shimsOf(daemon.address).length > 0; t++) await sleep(100);
      await sleep(300);
      const before = footprint(daemon);
      await pool(ids, 4, (id) => startDetached(daemon, NS, ctx.fx.tiny, id));
      const running = await runningTasks(daemon, NS);
      if (ids.some((id) => !running.has(id))) throw new Error("not every container is RUNNING");
      await sleep(2000);
      const after = footprint(daemon);
      // containerd runs one shim per container here; finding none would mean the shim search is broken.
      if (daemon.kind === "containerd" && after.shims - before.shims !== n) {
        throw new Error(`found ${after.shims - before.shims} new shims for ${n} containers`);
      }
      return { pss: (after.pss - before.pss) / n / MiB, rss: (after.rss - before.rss) / n / MiB };
    } finally {
      await removeContainers(daemon, NS, ids);
    }
  },
};
