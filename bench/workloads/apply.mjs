// Applying the six layers of `multi` (unpack only, no fetch): Berth's unpacker in-process vs
// containerd's unpack through its daemon vs GNU tar.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { flushDisks, runOk } from "../lib/proc.mjs";
import { unmountAll } from "../lib/sys.mjs";

/** One namespace per run: each run unpacks into snapshots of its own, all removed at the end. */
const NS = "berth-bench-apply";
const nsOf = (i) => `${NS}-${i}`;
const IMAGE = "berth.bench/apply:latest";

/**
 * Removes every snapshot in the namespace, children first, so the next unpack starts cold.
 * Returns what is left after 20 rounds (nothing, normally), with the last refusal of each.
 */
async function removeSnapshots(daemon, ns) {
  const refusals = new Map();
  let keys = [];
  for (let round = 0; round < 20; round++) {
    const rows = (await daemon.ctrOk(ns, ["snapshots", "ls"])).stdout.trim().split("\n").slice(1).filter(Boolean);
    if (rows.length === 0) return [];
    const snaps = rows.map((r) => r.trim().split(/\s+/));
    keys = snaps.map(([key]) => key);
    const parents = new Set(snaps.map(([, parent]) => parent));
    for (const [key] of snaps.filter(([key]) => !parents.has(key))) {
      // containerd's garbage collector may take some first (the lease went with the view), and a
      // child the listing missed goes in a later round: both fine.
      const res = await daemon.ctr(ns, ["snapshots", "rm", key]);
      if (res.code !== 0 && !/not found|with child/.test(res.stderr)) throw new Error(`snapshots rm ${key}: ${res.stderr.trim()}`);
      if (res.code !== 0) refusals.set(key, res.stderr.trim());
    }
  }
  return keys.map((key) => (refusals.has(key) ? `${key} (${refusals.get(key)})` : key));
}

/** The top chain ID of the image config's diff IDs (OCI image spec), to check what Berth's script committed. */
function topChainIdOf(layout) {
  const blob = (d) => readFileSync(join(layout, "blobs/sha256", d.replace(/^sha256:/, "")), "utf8");
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
  const manifest = JSON.parse(blob(index.manifests[0].digest));
  const diffIds = JSON.parse(blob(manifest.config.digest)).rootfs.diff_ids;
  return diffIds.reduce((chain, diffId) => (chain === "" ? diffId : `sha256:${createHash("sha256").update(`${chain} ${diffId}`).digest("hex")}`), "");
}

export default {
  id: "apply",
  title: "apply the 6 layers of multi",
  description:
    "Unpacking only (the blobs are already local): the six gzip layers of `multi` (~156 MB compressed, 187 MB and 8 000+ " +
    "entries unpacked; whiteouts, an opaque dir, a hardlink, a FIFO, setuid and sticky modes), each into its own directory " +
    "as an overlay snapshotter lays them out. containerd: before each run (untimed) the image is imported with `--no-unpack` " +
    "into a fresh namespace; the run times `ctr images mount` (its unpacker applies every layer into overlayfs snapshots — " +
    "decompression, diff-ID check, whiteouts as 0:0 devices — then mounts a view). Berth: " +
    "`packages/transfer/scripts/unpack-image.mjs`, the unpacker, overlay snapshotter and differ berthd pulls with, timed " +
    "in-process (no daemon, no ctr start-up) from the first snapshot prepared to the last committed: layers applied side by " +
    "side (the snapshotter's rebase capability, as containerd 2's unpacker does), each checked against its diff ID, the " +
    "top chain ID checked against the image config. The floor is `tar -xzf` of the same six blobs, " +
    "each into its own directory (no whiteout handling, no digest checks). Nothing is deleted until every run is done: a big " +
    "deletion slows the writes that follow it on this kind of disk, and would land on whichever side runs next.",
  metrics: [{ key: "s", unit: "s", better: "lower" }],
  runs: { full: 5, smoke: 1 },
  floorLabel: "`tar -xzf` of the 6 layers",
  async setup(ctx) {
    const layout = join(ctx.fx.images, "multi");
    const archive = join(ctx.tmp, "apply-multi-layout.tar");
    await runOk("tar", ["-cf", archive, "-C", layout, "."]);
    return {
      archive,
      layers: ctx.fx.multiLayers.map((l) => l.path),
      layout,
      chainId: topChainIdOf(layout),
      script: join(ctx.repo, "packages/transfer/scripts/unpack-image.mjs"),
      dirs: [],
      namespaces: [],
    };
  },
  async measure(ctx, daemon, state, i) {
    const dir = join(ctx.tmp, `apply-${daemon.kind}-${i}`);
    mkdirSync(dir, { recursive: true });
    state.dirs.push(dir);
    if (daemon.kind === "containerd") {
      const ns = nsOf(i);
      state.namespaces.push(ns);
      await daemon.ctrOk(ns, ["images", "import", "--no-unpack", "--base-name", "berth.bench/apply", state.archive], { stdout: "ignore" });
      const left = (await daemon.ctrOk(ns, ["snapshots", "ls"])).stdout.trim().split("\n").length - 1;
      if (left > 0) throw new Error(`not cold: ${left} snapshots in ${ns} before the unpack`);
      await flushDisks();
      const res = await daemon.ctrOk(ns, ["images", "mount", IMAGE, dir], { stdout: "ignore" });
      // Unmount only: the lease `images mount` took keeps the snapshots until finish removes them.
      await daemon.ctrOk(ns, ["images", "unmount", dir], { stdout: "ignore" });
      return res.ms / 1000;
    }
    await flushDisks();
    const res = await runOk(process.execPath, [state.script, "--root", dir, state.layout]);
    const out = JSON.parse(res.stdout);
    if (out.chainId !== state.chainId) throw new Error(`unpacked chain ${out.chainId}, the image config's is ${state.chainId}`);
    return out.ms / 1000;
  },
  async floor(ctx, state, i) {
    const dir = join(ctx.tmp, `apply-untar-${i}`);
    state.dirs.push(dir);
    await flushDisks();
    let ms = 0;
    for (const [n, layer] of state.layers.entries()) {
      const target = join(dir, String(n));
      mkdirSync(target, { recursive: true });
      ms += (await runOk("tar", ["-xzf", layer, "-C", target])).ms;
    }
    return ms / 1000;
  },
  async finish(ctx, daemon, state) {
    if (daemon.kind !== "containerd" || !state) return;
    for (const [i, ns] of state.namespaces.entries()) {
      await daemon.ctr(ns, ["images", "unmount", "--rm", join(ctx.tmp, `apply-containerd-${i}`)]);
      // Untimed housekeeping in a root the bench deletes at the end: what containerd would not
      // remove is reported, and the figure measured before it stands.
      const left = await removeSnapshots(daemon, ns);
      if (left.length > 0) ctx.log(`  containerd: snapshots left in ${ns} after 20 rounds of removal: ${left.join("; ")}`);
      await daemon.ctr(ns, ["images", "rm", "--sync", IMAGE]);
      await daemon.ctr(ns, ["namespaces", "rm", ns]);
    }
  },
  async teardown(ctx, state) {
    if (!state) return;
    rmSync(state.archive, { force: true });
    for (const dir of state.dirs) {
      // Never delete through a mount a failed run left behind.
      if ((await unmountAll(dir)).length === 0) rmSync(dir, { recursive: true, force: true });
    }
  },
};
