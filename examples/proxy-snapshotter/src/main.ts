#!/usr/bin/env node
// copy-snapshotter SOCKET ROOT: the example snapshotter as a proxy plugin, until SIGTERM.
import { serveSnapshotter } from "@berth/plugin-sdk";
import { createCopySnapshotter } from "./copy-snapshotter.js";

const [address, root] = process.argv.slice(2);
if (!address || !root) {
  console.error("usage: copy-snapshotter SOCKET ROOT");
  process.exit(2);
}
const snapshotter = await createCopySnapshotter(root);
const server = await serveSnapshotter(snapshotter, { address });
console.error(`copy-snapshotter: serving ${root} on ${address}`);
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    void server
      .close()
      .then(() => snapshotter.close())
      .then(() => process.exit(0));
  });
}
