// 20 containers started at once, detached, until all of them run.
import { ctrRunFlags, removeContainers, runningTasks, startDetached } from "../lib/containers.mjs";

const NS = "berth-bench";
const N = 20;
/** Berth's own shim, berthd's default runtime; ctr names io.containerd.runc.v2 unless told otherwise. */
const BERTH_RUNTIME = "io.containerd.berth.v2";

/** Starts N containers at once (with `runtime`, else ctr's default) and returns the seconds until all ctr returned. */
async function startTogether(ctx, daemon, runtime) {
  const ids = Array.from({ length: N }, () => ctx.uniq("c20"));
  const start = (id) =>
    runtime
      ? daemon.ctrOk(NS, ["run", "-d", "--null-io", ...ctrRunFlags(daemon), "--runtime", runtime, ctx.fx.tiny, id, "sleep", "3600"])
      : startDetached(daemon, NS, ctx.fx.tiny, id);
  try {
    const t0 = performance.now();
    const results = await Promise.allSettled(ids.map(start));
    const ms = performance.now() - t0;
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    const running = await runningTasks(daemon, NS);
    const missing = ids.filter((id) => !running.has(id));
    if (missing.length) throw new Error(`${missing.length} of ${N} tasks not RUNNING after ctr run -d returned`);
    return ms / 1000;
  } finally {
    await removeContainers(daemon, NS, ids);
  }
}

export default {
  id: "start-20",
  title: `${N} concurrent detached starts`,
  description:
    `${N} \`ctr run -d --null-io tiny ID sleep 3600\` started at the same moment; the time until the last ctr returns ` +
    "(ctr returns once its task is started). The harness then checks that `ctr tasks ls` shows all of them RUNNING and removes " +
    `them (untimed). The floor is ${N} concurrent bare \`runc run -d\`. Two rows, as for run --rm: ctr's default runtime ` +
    "(Debian's Go shim) on both daemons, then each daemon's own shim (Berth's, `--runtime io.containerd.berth.v2`, on " +
    "berthd; that row's containerd column repeats its first-row figure).",
  metrics: [
    { key: "s", title: `${N} concurrent detached starts (Go shim)`, unit: "s", better: "lower" },
    { key: "own", title: `${N} concurrent detached starts (each daemon's own shim)`, unit: "s", better: "lower" },
  ],
  runs: { full: 5, smoke: 1 },
  floorLabel: `${N} concurrent \`runc run -d\``,
  async setup(ctx) {
    await ctx.runcFloor.init();
  },
  async prepare(ctx, daemon) {
    await ctx.ensureImage(daemon, NS, ctx.fx.tiny);
  },
  async measure(ctx, daemon) {
    const s = await startTogether(ctx, daemon, undefined);
    return { s, own: daemon.kind === "berth" ? await startTogether(ctx, daemon, BERTH_RUNTIME) : s };
  },
  async floor(ctx) {
    const floor = ctx.runcFloor;
    const ids = Array.from({ length: N }, () => ctx.uniq("floor-c20"));
    const bundles = ids.map((id) => floor.bundle(id, ["sleep", "3600"]));
    try {
      const t0 = performance.now();
      // Detached containers inherit runc's stdio: /dev/null, so nothing holds a pipe open.
      const results = await Promise.all(
        ids.map((id, i) => floor.runc(["run", "-d", "--bundle", bundles[i], id], { stdout: "ignore", stderr: "ignore" })),
      );
      const ms = performance.now() - t0;
      const bad = results.filter((r) => r.code !== 0).length;
      if (bad) throw new Error(`${bad} of ${N} runc run -d failed`);
      return { s: ms / 1000, own: ms / 1000 };
    } finally {
      await floor.remove(ids);
    }
  },
};
