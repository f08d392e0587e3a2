// Cold pull + unpack of the six-layer `multi` image from the local fixture registry: the same
// `ctr images pull` against each daemon, and Berth's own `berth images pull` against berthd.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { rethrowUnimplemented } from "../lib/errors.mjs";
import { flushDisks, runOk } from "../lib/proc.mjs";

const NS = "berth-bench-pull";

/** The pull must have unpacked: one committed snapshot per layer. */
async function checkUnpacked(ctx, daemon) {
  const snaps = (await daemon.ctrOk(NS, ["snapshots", "ls"])).stdout.split("\n").filter((l) => /\bCommitted\b/.test(l));
  if (snaps.length < ctx.fx.multiLayers.length) {
    throw new Error(`pull left ${snaps.length} committed snapshots, expected ${ctx.fx.multiLayers.length}`);
  }
}

/**
 * Times `pull` against a daemon of `kind` started for this one pull on an empty private root, so
 * every run is cold whether or not the daemon can garbage-collect. The directory stays until
 * teardown: a big deletion slows the writes after it on this disk, whoever's they are.
 */
async function coldPull(ctx, state, kind, name, pull) {
  const dir = join(ctx.tmp, `pull-${name}-${state.dirs.length}`);
  state.dirs.push(dir);
  const fresh = await ctx.launch(kind, dir);
  try {
    await flushDisks();
    const ms = await pull(fresh);
    await checkUnpacked(ctx, fresh);
    return ms / 1000;
  } finally {
    await fresh.release();
  }
}

const ctrPull = (ctx) => async (daemon) => (await daemon.ctrOk(NS, ["images", "pull", "--plain-http", ctx.fx.multi], { stdout: "ignore" })).ms;

const berthPull = (ctx) => async (daemon) => {
  try {
    return (await runOk(ctx.bin.berth, ["-a", daemon.address, "-n", NS, "images", "pull", "--plain-http", ctx.fx.multi], { stdout: "ignore" })).ms;
  } catch (err) {
    rethrowUnimplemented(err);
  }
};

export default {
  id: "pull-multi",
  title: "cold pull+unpack of multi",
  description:
    "`ctr images pull --plain-http 127.0.0.1:PORT/multi:latest` from the fixture registry on loopback: six gzip layers, " +
    "about 156 MB compressed, 187 MB and 8 000+ entries unpacked into overlayfs snapshots (whiteouts, opaque dirs, hardlinks, " +
    "special files). Debian's ctr 1.6 pulls on the client side: it fetches through the Content service, then unpacks through " +
    "the Diff and Snapshots services. Second row: `berth images pull --plain-http` against berthd, where the daemon pulls " +
    "(containerd 2's Transfer service: concurrent fetch, unpack streaming behind the download); Debian's containerd 1.6 has no " +
    "Transfer service, so that row's containerd column repeats its `ctr images pull` figure (each daemon's own fastest client). " +
    "Every pull runs against a daemon started for it on an empty private root, so each one fetches and unpacks everything " +
    "(start-up untimed, a `sync` before timing, the directories removed only after the last run). The floor is `tar -xzf` of " +
    "the same six blobs, each into its own directory (what an overlay snapshotter does, minus whiteout handling, fetching and " +
    "digest checks).",
  metrics: [
    { key: "s", unit: "s", better: "lower", title: "cold pull+unpack of multi, ctr images pull" },
    { key: "cli", unit: "s", better: "lower", title: "cold pull+unpack of multi, berth images pull" },
  ],
  runs: { full: 5, smoke: 1 },
  floorLabel: "`tar -xzf` of the 6 layers",
  setup: () => ({ dirs: [] }),
  async measure(ctx, daemon, state) {
    const s = await coldPull(ctx, state, daemon.kind, `${daemon.kind}-ctr`, ctrPull(ctx));
    if (daemon.kind !== "berth") return { s, cli: s };
    const cli = await coldPull(ctx, state, daemon.kind, "berth-cli", berthPull(ctx));
    return { s, cli };
  },
  async floor(ctx, state, i) {
    const dir = join(ctx.tmp, `untar-${i}`);
    state.dirs.push(dir);
    await flushDisks();
    let ms = 0;
    for (const [n, layer] of ctx.fx.multiLayers.entries()) {
      const target = join(dir, String(n));
      mkdirSync(target, { recursive: true });
      ms += (await runOk("tar", ["-xzf", layer.path, "-C", target])).ms;
    }
    return { s: ms / 1000, cli: ms / 1000 };
  },
  // No teardown: the directories (~4 GB over a full run) go with the bench's temporary
  // directory at the very end. Deleting them here made ext4 free their inodes while the next
  // workload (apply) was writing, and slowed whichever side ran first by up to 3x.
};
