// Garbage collection end to end: berthd in this process with the real plugin set and this
// scheduler, Debian's ctr pulling the `multi` fixture from a local registry through Berth's
// services, then removing it with --sync: its blobs and snapshots must be gone from disk.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { leasesApi } from "@berth/api";
import { createClient, type BerthClient } from "@berth/client";
import { localContentPlugin } from "@berth/content-local";
import { startDaemon, type Daemon } from "@berth/daemon";
import { walkingDifferPlugin } from "@berth/differ";
import { eventsGrpcPlugin, exchangePlugin } from "@berth/events";
import { lmdbMetadataPlugin } from "@berth/metadata-lmdb";
import { servicePlugins } from "@berth/services";
import { overlayPlugin } from "@berth/snapshot-overlay";
import {
  ensureFixtureImages,
  exec,
  requireRoot,
  requireTool,
  startRegistry,
  startTestDaemon,
  type FixtureSummary,
  type TestDaemon,
  type TestRegistry,
} from "@berth/testing";
import { gcSchedulerPlugin } from "../src/index.js";

/** Bytes under `dir`, as du counts them (allocated blocks, so unpacked files count too). */
async function du(dir: string): Promise<number> {
  const { stdout } = await exec("du", ["-s", "-B1", dir]);
  return Number(stdout.split("\t")[0]);
}

describe("garbage collection through ctr against berthd", () => {
  let fixtures: FixtureSummary;
  let registry: TestRegistry;
  let berthd: TestDaemon<Daemon>;
  let client: BerthClient;
  let ref: string;
  let blobsDir: string;
  let snapshotsDir: string;

  const ctr = (...args: string[]) => berthd.ctr(...args);
  const lines = (text: string) => text.split("\n").filter((l) => l.trim() !== "");
  const blobFiles = async () => (await readdir(blobsDir)).length;
  const snapshotDirs = async () => (await readdir(snapshotsDir)).length;

  beforeAll(async () => {
    requireRoot("berthd locks its root and overlayfs snapshots need root");
    await requireTool("ctr", "containerd");
    await requireTool("du", "coreutils");
    fixtures = await ensureFixtureImages();
    registry = await startRegistry({ images: ["multi", "tiny"] });
    ref = `${registry.host}/multi:latest`;
    const plugins = [
      localContentPlugin,
      lmdbMetadataPlugin,
      overlayPlugin,
      walkingDifferPlugin,
      exchangePlugin,
      eventsGrpcPlugin,
      gcSchedulerPlugin,
      ...servicePlugins,
    ];
    berthd = await startTestDaemon((o) => startDaemon({ ...o, plugins }));
    const root = join(berthd.dir, "root");
    blobsDir = join(root, "io.containerd.content.v1.content", "blobs", "sha256");
    snapshotsDir = join(root, "io.containerd.snapshotter.v1.overlayfs", "snapshots");
    client = createClient({ address: berthd.address, namespace: "default", timeoutMs: 120_000 });
  }, 180_000);

  afterAll(async () => {
    client?.close();
    await berthd?.dispose();
    await registry?.stop();
  }, 120_000);

  it("ctr plugins ls shows the scheduler loaded", async () => {
    const { stdout } = await ctr("plugins", "ls");
    expect(stdout).toMatch(/io\.containerd\.gc\.v1\s+scheduler\s+-\s+ok/);
  });

  it("ctr images rm --sync of a pulled multi takes its blobs and snapshots off the disk", async () => {
    const before = (await du(blobsDir)) + (await du(snapshotsDir));
    await ctr("images", "pull", "--plain-http", ref);
    const blobsPulled = await du(blobsDir);
    const unpacked = await du(snapshotsDir);
    const layerBytes = fixtures.multi.layers!.reduce((n, l) => n + l.size, 0);
    // Sanity: the pull really put the compressed layers and their unpacked trees on disk.
    expect(blobsPulled).toBeGreaterThan(layerBytes);
    expect(unpacked).toBeGreaterThan(layerBytes);
    expect(await blobFiles()).toBe(fixtures.multi.layers!.length + 2);
    expect(await snapshotDirs()).toBe(fixtures.multi.layers!.length);

    await ctr("images", "rm", "--sync", ref);
    expect(await blobFiles()).toBe(0);
    expect(await snapshotDirs()).toBe(0);
    expect(lines((await ctr("content", "ls", "-q")).stdout)).toEqual([]);
    expect(lines((await ctr("snapshots", "ls")).stdout).slice(1)).toEqual([]);
    const after = (await du(blobsDir)) + (await du(snapshotsDir));
    // Disk usage drops by the image's size (its blobs and its unpacked layers): back to where it was.
    expect(blobsPulled + unpacked - after).toBeGreaterThan(2 * layerBytes);
    expect(after).toBe(before);
  }, 300_000);

  it("a lease holding the manifest keeps it and everything it references until the lease goes", async () => {
    await ctr("images", "pull", "--plain-http", ref);
    const leases = client.service(leasesApi.Leases);
    await leases.create({ id: "keep-multi", labels: {} });
    await leases.addResource({ id: "keep-multi", resource: { id: fixtures.multi.digest, type: "content" } });
    const blobs = await blobFiles();
    const snapshots = await snapshotDirs();

    await ctr("images", "rm", "--sync", ref);
    // The manifest's labels reference config and layers; the config's, the unpacked chain.
    expect(await blobFiles()).toBe(blobs);
    expect(await snapshotDirs()).toBe(snapshots);

    await leases.delete({ id: "keep-multi", sync: true });
    expect(await blobFiles()).toBe(0);
    expect(await snapshotDirs()).toBe(0);
  }, 300_000);

  it("a container keeps its snapshot chain after its image is removed; removing the container frees it", async () => {
    await ctr("images", "pull", "--plain-http", ref);
    await ctr("containers", "create", "--snapshotter", "overlayfs", ref, "keeper");
    await ctr("images", "rm", "--sync", ref);
    // The image's blobs went; its layers' chain stays under the container's active snapshot.
    expect(await blobFiles()).toBe(0);
    expect(await snapshotDirs()).toBe(fixtures.multi.layers!.length + 1);
    expect(lines((await ctr("snapshots", "ls")).stdout).slice(1)).toHaveLength(fixtures.multi.layers!.length + 1);

    await ctr("containers", "rm", "keeper");
    await client.service(leasesApi.Leases).create({ id: "tick", labels: {} });
    await client.service(leasesApi.Leases).delete({ id: "tick", sync: true });
    expect(await snapshotDirs()).toBe(0);
  }, 300_000);

  it("collections running while three pulls run: every pull completes and every image checks complete", async () => {
    const leases = client.service(leasesApi.Leases);
    let pulling = true;
    let collections = 0;
    const collector = (async () => {
      while (pulling) {
        // A lease created and deleted with sync: one full collection, waited for.
        await leases.create({ id: `tick-${collections}`, labels: {} });
        await leases.delete({ id: `tick-${collections}`, sync: true });
        collections++;
      }
    })();
    const namespaces = ["pull-a", "pull-b", "pull-c"];
    try {
      await Promise.all(namespaces.map((ns) => ctr("-n", ns, "images", "pull", "--plain-http", ns === "pull-c" ? `${registry.host}/tiny:latest` : ref)));
    } finally {
      pulling = false;
      await collector;
    }
    expect(collections).toBeGreaterThan(1);
    for (const ns of namespaces) {
      const { stdout } = await ctr("-n", ns, "images", "check");
      const checked = lines(stdout).slice(1);
      expect(checked, stdout).toHaveLength(1);
      expect(checked[0]).toMatch(/\scomplete \(\d+\/\d+\)\s.*\strue$/);
    }
    // Everything pulled stays through one more collection: images are roots.
    await leases.create({ id: "final", labels: {} });
    await leases.delete({ id: "final", sync: true });
    for (const ns of namespaces) expect(lines((await ctr("-n", ns, "images", "check")).stdout)[1]).toMatch(/complete/);
  }, 600_000);
});
