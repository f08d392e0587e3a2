// `ctr version`: one unary RPC through Debian's ctr, process start to exit.
import { runOk } from "../lib/proc.mjs";

export default {
  id: "ctr-version",
  title: "`ctr version` round trip",
  description:
    "Wall time of `ctr -a SOCK version`: start Debian's ctr, connect, one Version RPC, print, exit. " +
    "Mostly client start-up plus connection set-up; the floor is `ctr --version`, the same binary without any RPC.",
  metrics: [{ key: "ms", unit: "ms", better: "lower" }],
  runs: { full: 15, smoke: 3 },
  floorLabel: "`ctr --version` (no RPC)",
  async measure(ctx, daemon) {
    return (await daemon.ctrOk("default", ["version"])).ms;
  },
  async floor(ctx) {
    return (await runOk(ctx.bin.ctr, ["--version"])).ms;
  },
};
