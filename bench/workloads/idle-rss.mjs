// Resident memory of a freshly started daemon that has done nothing yet.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { sleep } from "../lib/proc.mjs";
import { MiB } from "../lib/stats.mjs";
import { memoryOf } from "../lib/sys.mjs";

export default {
  id: "idle-rss",
  title: "daemon idle RSS",
  description:
    "RSS (from /proc/PID/smaps_rollup) of a daemon started fresh on an empty private root, after it answered " +
    "`ctr version` and then sat idle for a few seconds (3 s; 1 s in smoke mode). Each run starts and stops its own daemon.",
  metrics: [{ key: "rss", unit: "MiB", better: "lower" }],
  runs: { full: 5, smoke: 1 },
  async measure(ctx, daemon, state, i) {
    const dir = join(ctx.tmp, `idle-${daemon.kind}-${i}`);
    const fresh = await ctx.launch(daemon.kind, dir);
    try {
      await sleep(ctx.smoke ? 1000 : 3000);
      return memoryOf(fresh.pid).rss / MiB;
    } finally {
      await fresh.release();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
