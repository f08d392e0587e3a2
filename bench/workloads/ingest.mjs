// Content ingest throughput: a fixed-size random blob streamed into the content store.
import { createHash, randomBytes, randomFillSync } from "node:crypto";
import { createReadStream, openSync, writeSync, closeSync, rmSync } from "node:fs";
import { join } from "node:path";
import { syncGc } from "../lib/daemons.mjs";
import { feedStreams, flushDisks, runOk } from "../lib/proc.mjs";
import { MB, MiB } from "../lib/stats.mjs";

const NS = "berth-bench-ingest";

async function digestOf(prefix, file) {
  const h = createHash("sha256").update(prefix);
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * MiB })) h.update(chunk);
  return `sha256:${h.digest("hex")}`;
}

export default {
  id: "content-ingest",
  title: "content ingest",
  description:
    "`ctr content ingest --expected-size … --expected-digest … REF` fed a random blob on stdin (256 MiB; 32 MiB in smoke " +
    "mode; a fresh 64-byte prefix each run so no run finds its blob already stored). MB/s = bytes / wall time of the ctr " +
    "process (10^6 bytes per MB). The daemon hashes, writes and fsyncs, then commits. Afterwards the blob is removed and a " +
    "synchronous GC empties the store (untimed). The floor is a plain disk write of the same bytes on the same filesystem: " +
    "`dd bs=1M conv=fsync`.",
  metrics: [{ key: "mbps", unit: "MB/s", better: "higher" }],
  runs: { full: 5, smoke: 1 },
  floorLabel: "`dd conv=fsync` disk write",
  async setup(ctx) {
    const size = (ctx.smoke ? 32 : 256) * MiB;
    const file = join(ctx.tmp, "ingest-body.bin");
    const fd = openSync(file, "w");
    const chunk = Buffer.alloc(MiB);
    for (let off = 0; off < size; off += MiB) writeSync(fd, randomFillSync(chunk));
    closeSync(fd);
    return { file, size };
  },
  async measure(ctx, daemon, { file, size }) {
    const prefix = Buffer.concat([Buffer.from("berth-bench ingest "), randomBytes(45)]);
    const total = prefix.length + size;
    const digest = await digestOf(prefix, file);
    await flushDisks();
    const res = await daemon.ctrOk(
      NS,
      ["content", "ingest", "--expected-size", String(total), "--expected-digest", digest, ctx.uniq("ingest")],
      { feed: (stdin) => feedStreams(stdin, [prefix, createReadStream(file, { highWaterMark: MiB })]) },
    );
    await daemon.ctr(NS, ["content", "rm", digest]);
    await syncGc(daemon, NS).catch(() => {});
    return total / MB / (res.ms / 1000);
  },
  async floor(ctx, { file, size }) {
    const out = join(ctx.tmp, "floor-write.bin");
    await flushDisks();
    try {
      const res = await runOk(ctx.bin.dd, [`if=${file}`, `of=${out}`, "bs=1M", "conv=fsync", "status=none"]);
      return size / MB / (res.ms / 1000);
    } finally {
      rmSync(out, { force: true });
    }
  },
  async teardown(ctx, state) {
    if (state) rmSync(state.file, { force: true });
  },
};
