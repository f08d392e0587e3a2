// 20 containers started at once, detached, until all of them run.
import { removeContainers, runningTasks, startDetached } from "../lib/containers.mjs";

const NS = "berth-bench";
const N = 20;

export default {
  id: "start-20",
  title: `${N} concurrent detached starts`,
  description:
    `${N} \`ctr run -d --null-io tiny ID sleep 3600\` started at the same moment; the time until the last ctr returns ` +
    "(ctr returns once its task is started). The harness then checks that `ctr tasks ls` shows all of them RUNNING and removes " +
    `them (untimed). The floor is ${N} concurrent bare \`runc run -d\`.`,
  metrics: [{ key: "s", unit: "s", better: "lower" }],
  runs: { full: 5, smoke: 1 },
  floorLabel: `${N} concurrent \`runc run -d\``,
  async setup(ctx) {
    await ctx.runcFloor.init();
  },
  async prepare(ctx, daemon) {
    await ctx.ensureImage(daemon, NS, ctx.fx.tiny);
  },
  async measure(ctx, daemon) {
    const ids = Array.from({ length: N }, () => ctx.uniq("c20"));
    try {
      const t0 = performance.now();
      const results = await Promise.allSettled(ids.map((id) => startDetached(daemon, NS, ctx.fx.tiny, id)));
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
      return ms / 1000;
    } finally {
      await floor.remove(ids);
    }
  },
};
