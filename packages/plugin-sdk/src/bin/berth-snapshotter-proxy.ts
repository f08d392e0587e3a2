#!/usr/bin/env node
// berth-snapshotter-proxy --address SOCK --root DIR: Berth's overlayfs snapshotter out of
// process, as containerd's Snapshots service, for [proxy_plugins] of berthd or containerd.
import { parseArgs } from "node:util";
import { createOverlaySnapshotter } from "@berth/snapshot-overlay";
import { serveSnapshotter } from "../serve-snapshotter.js";

const USAGE = `usage: berth-snapshotter-proxy --address SOCK --root DIR

Serves Berth's overlayfs snapshotter as containerd.services.snapshots.v1.Snapshots on the
UNIX socket SOCK, keeping snapshots under DIR. Configure it in berthd or containerd as

  [proxy_plugins.NAME]
    type = "snapshot"
    address = "SOCK"

or register it with a running berthd: berth plugins register --type snapshot --id NAME --address SOCK`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { address: { type: "string" }, root: { type: "string" }, help: { type: "boolean", short: "h" } },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.address || !values.root) {
    console.error(USAGE);
    return 2;
  }
  const snapshotter = await createOverlaySnapshotter(values.root);
  const server = await serveSnapshotter(snapshotter, { address: values.address });
  console.error(`berth-snapshotter-proxy: serving overlayfs snapshots from ${values.root} on ${values.address}`);
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  await server.close();
  await snapshotter.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`berth-snapshotter-proxy: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
