// Garbage collection of 10 000 unreferenced content blobs, triggered by deleting their lease:
// how long the collection takes, and how long it holds up metadata writes meanwhile.
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { hasPlugin } from "../lib/daemons.mjs";
import { NotAvailable, rethrowUnimplemented } from "../lib/errors.mjs";
import { flushDisks, pool, runOk } from "../lib/proc.mjs";

const NS = "berth-bench-gc";

async function services(daemon, ns = NS) {
  const { contentApi, leasesApi } = await import("@berth/api");
  const client = await daemon.client(ns);
  return { content: client.service(contentApi.Content), leases: client.service(leasesApi.Leases), WriteAction: contentApi.WriteAction };
}

async function countBlobs(content) {
  let n = 0;
  for await (const res of content.list({ filters: [] })) n += res.info.length;
  return n;
}

async function* once(msg) {
  yield msg;
}

const objects = (ctx) => (ctx.smoke ? 1000 : 10000);

/**
 * Runs `probe` back to back until `done` settles; resolves with the longest single probe in ms.
 * What a client sees of a pause: a call that arrives while the daemon cannot serve it waits.
 */
async function longestWhile(done, probe) {
  let finished = false;
  const stop = done.then(
    () => (finished = true),
    () => (finished = true),
  );
  let longest = 0;
  for (let i = 0; !finished; i++) {
    const t0 = performance.now();
    await probe(i);
    longest = Math.max(longest, performance.now() - t0);
  }
  await stop;
  return longest;
}

export default {
  id: "gc-10k",
  title: "GC of 10,000 objects",
  description:
    "10 000 small content blobs (1 000 in smoke mode; 40–50 bytes each, unique per run) are written through the Content " +
    "service, each first added to one lease with Leases.AddResource so that no background collection can take them early. " +
    "The timed part is Leases.Delete(lease, sync=true): the daemon drops the lease and runs a full garbage collection before " +
    "answering, which must remove every blob's metadata and file. The harness checks the store holds 10 000 blobs before and " +
    "none after. While the delete runs, a second client creates leases back to back (Leases.Create, a metadata write): " +
    "the longest of those calls is the pause the collection imposes on writers (containerd blocks writers while it marks " +
    "and sweeps; Berth only for one marking slice or one bounded sweep transaction at a time, a few milliseconds each). A daemon without an io.containerd.gc.v1 plugin (introspection) is n/a. The floor " +
    "is `rm -rf` of a directory holding the same number of equally small files, and the longest small write + fsync to " +
    "the same disk meanwhile.",
  metrics: [
    { key: "s", unit: "s", better: "lower" },
    { key: "pause", title: "longest metadata write during that GC", unit: "ms", better: "lower" },
  ],
  runs: { full: 3, smoke: 1 },
  floorLabel: "`rm -rf` of as many small files; a small fsynced write meanwhile",
  async prepare(ctx, daemon) {
    // Without a collector a synchronous lease delete has nothing to wait for: n/a, not a failure.
    if (!(await hasPlugin(daemon, "io.containerd.gc.v1"))) {
      throw new NotAvailable("no io.containerd.gc.v1 plugin loaded");
    }
  },
  async measure(ctx, daemon) {
    const n = objects(ctx);
    try {
      const { content, leases, WriteAction } = await services(daemon);
      const tag = ctx.uniq("gc");
      const lease = `${tag}-lease`;
      await leases.create({ id: lease, labels: {} });
      const w0 = performance.now();
      await pool(Array.from({ length: n }, (_, i) => i), 16, async (i) => {
        const data = Buffer.from(`berth-bench gc object ${tag} ${i}\n`);
        const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
        await leases.addResource({ id: lease, resource: { id: digest, type: "content" } });
        const req = { action: WriteAction.COMMIT, ref: `${tag}-${i}`, total: BigInt(data.length), expected: digest, offset: 0n, data };
        for await (const _ of content.write(once(req))) {
          // one response: committed
        }
      });
      ctx.log(`  ${daemon.kind}: wrote ${n} blobs in ${((performance.now() - w0) / 1000).toFixed(1)} s (untimed)`);
      const before = await countBlobs(content);
      if (before !== n) throw new Error(`store holds ${before} blobs before GC, expected ${n}`);
      await flushDisks();
      // The probe's own connection, so its calls do not queue behind the delete on one channel.
      const probes = (await services(daemon, `${NS}-probe`)).leases;
      const t0 = performance.now();
      const deleted = leases.delete({ id: lease, sync: true });
      const [s, pause] = await Promise.all([
        deleted.then(() => (performance.now() - t0) / 1000),
        longestWhile(deleted, (i) => probes.create({ id: `${tag}-probe-${i}`, labels: {} })),
      ]);
      const after = await countBlobs(content);
      if (after !== 0) throw new Error(`${after} of ${n} blobs left after a synchronous GC`);
      for (const { id } of (await probes.list({ filters: [] })).leases) await probes.delete({ id });
      return { s, pause };
    } catch (err) {
      rethrowUnimplemented(err);
    }
  },
  async floor(ctx, state, i) {
    const n = objects(ctx);
    const dir = join(ctx.tmp, `gc-floor-${i}`);
    mkdirSync(dir, { recursive: true });
    for (let j = 0; j < n; j++) writeFileSync(join(dir, String(j).padStart(6, "0")), `berth-bench gc floor ${j}\n`);
    await flushDisks();
    const removed = runOk("rm", ["-rf", dir]);
    const probe = join(ctx.tmp, `gc-floor-probe-${i}`);
    const pause = await longestWhile(removed, async () => {
      const file = await open(probe, "w");
      await file.write("probe\n");
      await file.sync();
      await file.close();
    });
    return { s: (await removed).ms / 1000, pause };
  },
};
