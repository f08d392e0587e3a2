#!/usr/bin/env node
// Unpacks an OCI image layout's layers into overlay snapshots in-process, with the unpacker,
// overlay snapshotter and walking differ berthd pulls with, and prints how long it took: the
// Berth side of the `apply` benchmark workload (bench/workloads/apply.mjs), and a profiling aid.
//
//   node scripts/unpack-image.mjs --root DIR [--one-at-a-time] [--concurrency N] LAYOUT
//
// DIR is the snapshotter's root (created). Layers are read from the layout's files (as a pull
// reads them from its download) and checked against the config's diff IDs. Prints
// {"ms": …, "chainId": "sha256:…"}; the time covers the unpack only, not opening the snapshotter.
import { createReadStream, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createLocalContentStore } from "@berth/content-local";
import { createWalkingDiffer } from "@berth/differ";
import { createOverlaySnapshotter } from "@berth/snapshot-overlay";
import { unpackLayers } from "../dist/index.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { root: { type: "string" }, "one-at-a-time": { type: "boolean", default: false }, concurrency: { type: "string" } },
});
if (!values.root || positionals.length !== 1) {
  process.stderr.write("usage: unpack-image.mjs --root DIR [--one-at-a-time] [--concurrency N] LAYOUT\n");
  process.exit(2);
}
const layout = positionals[0];
const blobPath = (digest) => join(layout, "blobs", ...digest.split(":"));
const json = (digest) => JSON.parse(readFileSync(blobPath(digest), "utf8"));
const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
const manifest = json(index.manifests[0].digest);
const diffIds = json(manifest.config.digest).rootfs.diff_ids;

mkdirSync(values.root, { recursive: true });
// The differ reads each layer from its source below; its content store stays empty.
const content = await createLocalContentStore(join(values.root, "content"));
const snapshotter = await createOverlaySnapshotter(join(values.root, "overlayfs"), {});
const target = {
  name: "overlayfs",
  snapshotter,
  differ: createWalkingDiffer({ content }),
  rebase: !values["one-at-a-time"],
  ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
};
const layers = manifest.layers.map((desc, i) => ({
  desc,
  diffId: diffIds[i],
  fetched: Promise.resolve(),
  live: () => createReadStream(blobPath(desc.digest), { highWaterMark: 1024 * 1024 }),
}));

const started = performance.now();
const chainId = await unpackLayers(target, { namespace: "default" }, layers);
const ms = performance.now() - started;
await snapshotter.close();
process.stdout.write(`${JSON.stringify({ ms, chainId })}\n`);
