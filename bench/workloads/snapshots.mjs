// Snapshot prepare + mounts + remove cycles through the Snapshots gRPC service.
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { syncGc } from "../lib/daemons.mjs";
import { rethrowUnimplemented } from "../lib/errors.mjs";
import { run, runOk } from "../lib/proc.mjs";

const NS = "berth-bench-snapshots";
const SNAPSHOTTER = "overlayfs";
/** No lease is attached to these calls, so a label keeps the GC from taking snapshots mid-cycle. */
const LABELS = { "containerd.io/gc.root": "berth-bench" };

async function snapshotsService(daemon) {
  const { snapshotsApi } = await import("@berth/api");
  return (await daemon.client(NS)).service(snapshotsApi.Snapshots);
}

/** mount(8) a snapshot's mounts (one mount, as overlayfs and bind give) on `target`. */
async function mountAll(mounts, target) {
  if (mounts.length !== 1) throw new Error(`expected one mount, got ${mounts.length}`);
  const [m] = mounts;
  await runOk("mount", ["-t", m.type, ...(m.options.length ? ["-o", m.options.join(",")] : []), m.source, target]);
}

/** Prepares `key`, mounts it on `target`, runs fn(target), unmounts. */
async function withMounted(snaps, key, parent, target, fn) {
  const { mounts } = await snaps.prepare({ snapshotter: SNAPSHOTTER, key, parent, labels: LABELS });
  mkdirSync(target, { recursive: true });
  await mountAll(mounts, target);
  try {
    return await fn(target);
  } finally {
    await run("umount", [target]);
  }
}

export default {
  id: "snapshots",
  title: "snapshot prepare+mounts+remove",
  description:
    "Cycles of Prepare(key, parent) → Mounts(key) → Remove(key) on the overlayfs snapshotter, one after another, through " +
    "the Snapshots gRPC service (@berth/client from this repository, the same client against both daemons, so no process is " +
    "spawned per call); 500 cycles per run, 50 in smoke mode. The figure is cycles per second. The parent is a committed " +
    "snapshot the harness makes first through the same service (prepare, mount, write a file, unmount, commit), so the " +
    "workload needs nothing but the Snapshots service. \"Mount\" is the Mounts call: snapshotters only describe mounts, " +
    "the caller performs them. Before the timed cycles the harness really mounts one child snapshot with mount(8) and " +
    "checks the parent's file is visible. Every snapshot carries the label `containerd.io/gc.root` (there is no lease on these calls), so a background collection cannot take one mid-cycle. containerd removes snapshot directories in its garbage collector; a synchronous " +
    "GC runs after each run, untimed.",
  metrics: [{ key: "ops", unit: "ops/s", better: "higher" }],
  runs: { full: 5, smoke: 1 },
  async prepare(ctx, daemon) {
    const snaps = await snapshotsService(daemon);
    const parent = ctx.uniq("snap-parent");
    const target = join(ctx.tmp, `mnt-${daemon.kind}`);
    try {
      await withMounted(snaps, `${parent}-active`, "", target, (dir) => writeFileSync(join(dir, "parent-marker"), "parent\n"));
      await snaps.commit({ snapshotter: SNAPSHOTTER, name: parent, key: `${parent}-active`, labels: LABELS });
      const child = ctx.uniq("snap-check");
      const seen = await withMounted(snaps, child, parent, target, (dir) => existsSync(join(dir, "parent-marker")));
      await snaps.remove({ snapshotter: SNAPSHOTTER, key: child });
      if (!seen) throw new Error("a mounted child snapshot does not show its parent's file");
      daemon.snapshotParent = parent;
    } catch (err) {
      rethrowUnimplemented(err);
    } finally {
      rmSync(target, { recursive: true, force: true });
    }
  },
  async measure(ctx, daemon) {
    const snaps = await snapshotsService(daemon);
    const parent = daemon.snapshotParent;
    const n = ctx.smoke ? 50 : 500;
    const tag = ctx.uniq("snap");
    try {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const key = `${tag}-${i}`;
        await snaps.prepare({ snapshotter: SNAPSHOTTER, key, parent, labels: LABELS });
        const { mounts } = await snaps.mounts({ snapshotter: SNAPSHOTTER, key });
        if (mounts.length === 0) throw new Error(`no mounts for ${key}`);
        await snaps.remove({ snapshotter: SNAPSHOTTER, key });
      }
      const s = (performance.now() - t0) / 1000;
      await syncGc(daemon, NS).catch(() => {});
      return n / s;
    } catch (err) {
      rethrowUnimplemented(err);
    }
  },
  async finish(ctx, daemon) {
    if (!daemon.snapshotParent) return;
    const snaps = await snapshotsService(daemon);
    await snaps.remove({ snapshotter: SNAPSHOTTER, key: daemon.snapshotParent }).catch(() => {});
  },
};
