// Core's snapshotter conformance suite against a proxied overlay snapshotter: the SDK serves
// overlayfs on a UNIX socket, @berth/proxy's client drives it over gRPC, and every case runs
// through that client, exactly as berthd uses a [proxy_plugins] snapshotter.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, it } from "vitest";
import { snapshotterConformance, type ConformanceHarness, type Mount } from "@berth/core";
import { mountAll, unmountAll } from "@berth/mount";
import { connectProxy, createProxySnapshotter } from "@berth/proxy";
import { createOverlaySnapshotter } from "@berth/snapshot-overlay";
import { mountsBelow, requireRoot } from "@berth/testing";
import { serveSnapshotter } from "../src/index.js";

beforeAll(() => requireRoot("the overlay snapshotter mounts filesystems"));

const disposers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const dispose of disposers.splice(0).reverse()) await dispose();
});

async function proxiedOverlay(): Promise<ConformanceHarness> {
  const root = await mkdtemp(join(tmpdir(), "berth-sdk-"));
  const backend = await createOverlaySnapshotter(join(root, "snapshotter"));
  const server = await serveSnapshotter(backend, { address: join(root, "s.sock") });
  const conn = connectProxy(server.address);
  let next = 0;
  disposers.push(async () => {
    const left = await mountsBelow(root);
    await unmountAll(root);
    conn.close();
    await server.close();
    await backend.close();
    await rm(root, { recursive: true, force: true });
    assert.deepEqual(left, [], "the test left mounts behind");
  });
  return {
    snapshotter: createProxySnapshotter(conn, "proxied"),
    ctx: { namespace: "default" },
    root,
    async mount(mounts: readonly Mount[]) {
      const dir = join(root, "mnt", String(next++));
      await mkdir(dir, { recursive: true });
      await mountAll(mounts, dir);
      return dir;
    },
    unmount: (dir) => unmountAll(dir),
  };
}

describe("overlayfs served by the SDK, used through @berth/proxy: snapshotter conformance", () => {
  for (const c of snapshotterConformance({ rebase: true })) {
    it(c.name, async () => c.run(await proxiedOverlay()), 120_000);
  }
});
