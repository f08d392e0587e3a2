// `ctr run --rm tiny true`: create, start, wait, delete one short-lived container.
import { rmSync } from "node:fs";
import { ctrRunFlags } from "../lib/containers.mjs";

const NS = "berth-bench";
/** Berth's own shim, berthd's default runtime; ctr names io.containerd.runc.v2 unless told otherwise. */
const BERTH_RUNTIME = "io.containerd.berth.v2";

export default {
  id: "run-rm",
  title: "`run --rm tiny true` latency",
  description:
    "Wall time of `ctr run --rm 127.0.0.1:PORT/tiny:latest ID true` with ctr's stdio attached: container and snapshot " +
    "created, shim started, task created and started, exit awaited, everything deleted. The floor is a bare " +
    "`runc run` of the same rootfs (already unpacked, read-only) running `true`. Two rows: the first runs ctr's default " +
    "runtime (`io.containerd.runc.v2`, Debian's Go shim) on both daemons, so the difference is the daemon; the second runs " +
    "each daemon's own shim: the Go shim on containerd, Berth's shim (`--runtime io.containerd.berth.v2`, one shim per " +
    "namespace that berthd hands the next container without a `start`) on berthd. That row's containerd column repeats " +
    "its first-row figure.",
  metrics: [
    { key: "ms", title: "`run --rm tiny true` latency (Go shim)", unit: "ms", better: "lower" },
    { key: "own", title: "`run --rm tiny true` latency (each daemon's own shim)", unit: "ms", better: "lower" },
  ],
  runs: { full: 10, smoke: 1 },
  floorLabel: "bare `runc run`",
  async setup(ctx) {
    await ctx.runcFloor.init();
  },
  async prepare(ctx, daemon) {
    await ctx.ensureImage(daemon, NS, ctx.fx.tiny);
  },
  async measure(ctx, daemon) {
    const run = async (runtime) => {
      const args = ["run", "--rm", ...ctrRunFlags(daemon), ...(runtime ? ["--runtime", runtime] : []), ctx.fx.tiny, ctx.uniq("rm"), "true"];
      return (await daemon.ctrOk(NS, args)).ms;
    };
    const ms = await run(undefined);
    return { ms, own: daemon.kind === "berth" ? await run(BERTH_RUNTIME) : ms };
  },
  async floor(ctx) {
    const id = ctx.uniq("floor-rm");
    const bundle = ctx.runcFloor.bundle(id, ["true"]);
    try {
      const ms = (await ctx.runcFloor.runcOk(["run", "--bundle", bundle, id])).ms;
      return { ms, own: ms };
    } finally {
      await ctx.runcFloor.remove([id]);
      rmSync(bundle, { recursive: true, force: true });
    }
  },
};
