// `berth version`: the same round trip through Berth's own CLI (Node), against both daemons.
import { rethrowUnimplemented } from "../lib/errors.mjs";
import { runOk } from "../lib/proc.mjs";

export default {
  id: "berth-version",
  title: "`berth version` round trip",
  description:
    "Wall time of `berth -a SOCK version` (Berth's CLI, started through its node_modules/.bin shim) against each daemon. " +
    "Same client both sides, so the difference is the daemon; the floor is `berth --help`, Node start-up and argument parsing without any RPC.",
  metrics: [{ key: "ms", unit: "ms", better: "lower" }],
  runs: { full: 15, smoke: 3 },
  floorLabel: "`berth --help` (no RPC)",
  async measure(ctx, daemon) {
    try {
      return (await runOk(ctx.bin.berth, ["-a", daemon.address, "version"])).ms;
    } catch (err) {
      rethrowUnimplemented(err);
    }
  },
  async floor(ctx) {
    return (await runOk(ctx.bin.berth, ["--help"])).ms;
  },
};
