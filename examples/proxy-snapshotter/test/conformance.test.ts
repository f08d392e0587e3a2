// The example snapshotter, served through the SDK and driven through @berth/proxy's client,
// passes core's conformance suite: the check every proxy snapshotter author should run.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, it } from "vitest";
import { snapshotterConformance, type ConformanceHarness } from "@berth/core";
import { mountAll, unmountAll } from "@berth/mount";
import { serveSnapshotter } from "@berth/plugin-sdk";
import { connectProxy, createProxySnapshotter } from "@berth/proxy";
import { requireRoot } from "@berth/testing";
import { createCopySnapshotter } from "../src/index.js";

beforeAll(() => requireRoot("the cases mount the snapshots (bind mounts)"));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

async function harness(): Promise<ConformanceHarness> {
  const root = await mkdtemp(join(tmpdir(), "copy-snap-"));
  const backend = await createCopySnapshotter(join(root, "data"));
  const server = await serveSnapshotter(backend, { address: join(root, "s.sock") });
  const conn = connectProxy(server.address);
  cleanups.push(async () => {
    await unmountAll(root);
    conn.close();
    await server.close();
    await backend.close();
    await rm(root, { recursive: true, force: true });
  });
  let next = 0;
  return {
    snapshotter: createProxySnapshotter(conn, "copy"),
    ctx: { namespace: "default" },
    root,
    async mount(mounts) {
      const dir = join(root, "mnt", String(next++));
      await mkdir(dir, { recursive: true });
      await mountAll(mounts, dir);
      return dir;
    },
    unmount: (dir) => unmountAll(dir),
  };
}

describe("copy snapshotter through the SDK: snapshotter conformance", () => {
  for (const c of snapshotterConformance()) it(c.name, async () => c.run(await harness()), 120_000);
});
