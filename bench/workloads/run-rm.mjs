// `ctr run --rm tiny true`: create, start, wait, delete one short-lived container.
import { rmSync } from "node:fs";
import { ctrRunFlags } from "../lib/containers.mjs";

const NS = "berth-bench";

export default {
  id: "run-rm",
  title: "`run --rm tiny true` latency",
  description:
    "Wall time of `ctr run --rm 127.0.0.1:PORT/tiny:latest ID true` with ctr's stdio attached: container and snapshot " +
    "created, shim started, task created and started, exit awaited, everything deleted. The floor is a bare " +
    "`runc run` of the same rootfs (already unpacked, read-only) running `true`.",
  metrics: [{ key: "ms", unit: "ms", better: "lower" }],
  runs: { full: 10, smoke: 1 },
  floorLabel: "bare `runc run`",
  async setup(ctx) {
    await ctx.runcFloor.init();
  },
  async prepare(ctx, daemon) {
    await ctx.ensureImage(daemon, NS, ctx.fx.tiny);
  },
  async measure(ctx, daemon) {
    const id = ctx.uniq("rm");
    return (await daemon.ctrOk(NS, ["run", "--rm", ...ctrRunFlags(daemon), ctx.fx.tiny, id, "true"])).ms;
  },
  async floor(ctx) {
    const id = ctx.uniq("floor-rm");
    const bundle = ctx.runcFloor.bundle(id, ["true"]);
    try {
      return (await ctx.runcFloor.runcOk(["run", "--bundle", bundle, id])).ms;
    } finally {
      await ctx.runcFloor.remove([id]);
      rmSync(bundle, { recursive: true, force: true });
    }
  },
};
