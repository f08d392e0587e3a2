#!/usr/bin/env node
// Applies layer blobs in-process with Berth's applier and prints the time it took, for the
// `apply` benchmark workload (bench/workloads/apply.mjs) and for profiling:
//
//   node scripts/apply-layers.mjs --mode bind|overlay --out DIR LAYER.tar.gz...
//
// bind: every layer into DIR, in order (one directory, whiteouts remove).
// overlay: layer i into DIR/i, as an overlay snapshotter lays them out (whiteouts as 0:0
// devices, opaque xattrs, the dirs below as lowers). Prints {"ms": …, "layers": [diff IDs]}.
import { createReadStream, mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { applyTarStream } from "../dist/index.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { mode: { type: "string", default: "bind" }, out: { type: "string" }, compression: { type: "string", default: "gzip" } },
});
if (!values.out || positionals.length === 0 || !["bind", "overlay"].includes(values.mode)) {
  process.stderr.write("usage: apply-layers.mjs --mode bind|overlay --out DIR [--compression gzip|zstd|none] LAYER...\n");
  process.exit(2);
}
mkdirSync(values.out, { recursive: true });
const started = performance.now();
const diffIds = [];
const dirs = [];
for (const [i, blob] of positionals.entries()) {
  const source = createReadStream(blob, { highWaterMark: 1024 * 1024 });
  let target;
  if (values.mode === "bind") {
    target = { root: values.out, whiteouts: "remove" };
  } else {
    const dir = join(values.out, String(i));
    mkdirSync(dir);
    target = { root: dir, whiteouts: "overlay", lowers: [...dirs].reverse() };
    dirs.push(dir);
  }
  diffIds.push((await applyTarStream(source, values.compression, target)).digest);
}
process.stdout.write(`${JSON.stringify({ ms: performance.now() - started, layers: diffIds })}\n`);
