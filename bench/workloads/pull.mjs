// Cold pull + unpack of the six-layer `multi` image from the local fixture registry.
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { hasPlugin } from "../lib/daemons.mjs";
import { NoMoreRuns } from "../lib/errors.mjs";
import { flushDisks, runOk, sleep } from "../lib/proc.mjs";

const NS = "berth-bench-pull";

/** Removes the image and waits (up to 10 s) until the namespace has no content and no snapshots left. */
async function makeCold(ctx, daemon) {
  await daemon.ctr(NS, ["images", "rm", "--sync", ctx.fx.multi]);
  for (let i = 0; ; i++) {
    const content = (await daemon.ctrOk(NS, ["content", "ls", "-q"])).stdout.trim();
    const snaps = (await daemon.ctrOk(NS, ["snapshots", "ls"])).stdout.trim().split("\n").slice(1).filter(Boolean);
    if (!content && snaps.length === 0) break;
    // Without a collector nothing can make the store cold again: keep the first (cold) run.
    if (!(await hasPlugin(daemon, "io.containerd.gc.v1"))) throw new NoMoreRuns("no io.containerd.gc.v1 plugin to empty the store between runs");
    if (i >= 100) throw new Error(`not cold: ${content.split("\n").length} blobs, ${snaps.length} snapshots left after images rm --sync`);
    await sleep(100);
  }
  // Blobs are shared across namespaces in containerd's store: a layer pulled elsewhere would make this warm.
  if (daemon.kind === "containerd") {
    const blobs = join(daemon.root, "io.containerd.content.v1.content/blobs/sha256");
    const warm = ctx.fx.multiLayers.filter((l) => existsSync(join(blobs, l.digest.slice(7))));
    if (warm.length) throw new Error(`not cold: ${warm.length} of multi's layers already in containerd's content store`);
  }
  await flushDisks();
}

export default {
  id: "pull-multi",
  title: "cold pull+unpack of multi",
  description:
    "`ctr images pull --plain-http 127.0.0.1:PORT/multi:latest` from the fixture registry on loopback: six gzip layers, " +
    "about 156 MB compressed, 187 MB and 8 000+ entries unpacked into overlayfs snapshots (whiteouts, opaque dirs, hardlinks, " +
    "special files). Before each run the image is removed with `images rm --sync` and the harness checks that no content or " +
    "snapshot is left, so every run fetches and unpacks everything. The floor is `tar -xzf` of the same six blobs, each into its own " +
    "directory (what an overlay snapshotter does, minus whiteout handling, fetching and digest checks).",
  metrics: [{ key: "s", unit: "s", better: "lower" }],
  runs: { full: 5, smoke: 1 },
  floorLabel: "`tar -xzf` of the 6 layers",
  async measure(ctx, daemon) {
    await makeCold(ctx, daemon);
    const res = await daemon.ctrOk(NS, ["images", "pull", "--plain-http", ctx.fx.multi], { stdout: "ignore" });
    // The pull must have unpacked: one committed snapshot per layer.
    const snaps = (await daemon.ctrOk(NS, ["snapshots", "ls"])).stdout.split("\n").filter((l) => /\bCommitted\b/.test(l));
    if (snaps.length < ctx.fx.multiLayers.length) {
      throw new Error(`pull left ${snaps.length} committed snapshots, expected ${ctx.fx.multiLayers.length}`);
    }
    return res.ms / 1000;
  },
  async floor(ctx, state, i) {
    const dir = join(ctx.tmp, `untar-${i}`);
    await flushDisks();
    let ms = 0;
    try {
      for (const [n, layer] of ctx.fx.multiLayers.entries()) {
        const target = join(dir, String(n));
        mkdirSync(target, { recursive: true });
        ms += (await runOk("tar", ["-xzf", layer.path, "-C", target])).ms;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return ms / 1000;
  },
  async finish(ctx, daemon) {
    await daemon.ctr(NS, ["images", "rm", "--sync", ctx.fx.multi]);
  },
};
