import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { classOf, type Descriptor, type Differ, type Snapshotter } from "@berth/core";
import { createWalkingDiffer } from "@berth/differ";
import { chainIds } from "@berth/image-spec";
import { createOverlaySnapshotter } from "@berth/snapshot-overlay";
import { ensureFixtureImages, fixtureLayout, requireRoot, requireTool } from "@berth/testing";
import { ociLayoutSource, pullImage, unpackLayers, type UnpackTarget } from "../src/index.js";
import { ctx, newStores, onCleanup } from "./stores.js";

// Overlay snapshots are made with trusted.* xattrs and 0:0 devices: root only.
requireRoot("overlay layers hold whiteout devices and trusted.overlay xattrs");
beforeAll(async () => {
  await requireTool("tar", "tar");
  await ensureFixtureImages();
});

interface Image {
  readonly layers: Descriptor[];
  readonly diffIds: string[];
}

async function multiImage(): Promise<Image> {
  const dir = fixtureLayout("multi");
  const blob = async (digest: string) => JSON.parse(await readFile(join(dir, "blobs/sha256", digest.slice(7)), "utf8"));
  const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as { manifests: Descriptor[] };
  const manifest = (await blob(index.manifests[0]!.digest)) as { config: Descriptor; layers: Descriptor[] };
  const config = (await blob(manifest.config.digest)) as { rootfs: { diff_ids: string[] } };
  return { layers: manifest.layers, diffIds: config.rootfs.diff_ids };
}

/** A differ that counts the applies running at once. */
function counting(differ: Differ): Differ & { most: number } {
  let running = 0;
  const counted = {
    most: 0,
    readsApplySource: differ.readsApplySource,
    compare: differ.compare.bind(differ),
    async apply(...args: Parameters<Differ["apply"]>) {
      counted.most = Math.max(counted.most, ++running);
      try {
        return await differ.apply(...args);
      } finally {
        running--;
      }
    },
  };
  return counted;
}

async function overlayTarget(content: Parameters<typeof createWalkingDiffer>[0]["content"], rebase: boolean) {
  const root = await mkdtemp(join(tmpdir(), "berth-unpack-"));
  onCleanup(() => rm(root, { recursive: true, force: true }));
  const snapshotter = await createOverlaySnapshotter(root, { syncRemove: true });
  onCleanup(() => snapshotter.close());
  const differ = counting(createWalkingDiffer({ content }));
  return { name: "overlayfs", snapshotter, differ, rebase, concurrency: 3, root } satisfies UnpackTarget & { root: string };
}

/** A committed snapshot's own layer directory: the first (or only) directory a view of it mounts. */
async function layerDir(sn: Snapshotter, name: string): Promise<string> {
  const key = `look-${name}`;
  const [mount] = await sn.view(ctx, key, name);
  onCleanup(() => sn.remove(ctx, key));
  if (mount!.type === "bind") return mount!.source;
  return mount!.options.find((o) => o.startsWith("lowerdir="))!.slice("lowerdir=".length).split(":")[0]!;
}

/**
 * Everything a layer directory holds, as GNU tar archives it (names, types, modes, owners,
 * devices, link targets, contents and every xattr, overlay's included), with times pinned:
 * a directory's mtime moves whenever a file is written into it.
 */
function layerListing(dir: string): { listing: string; sha256: string } {
  const pinned = ["--mtime=@0", "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime"];
  const args = ["--sort=name", "--numeric-owner", "--xattrs", "--xattrs-include=*", ...pinned, "-C", dir, "-cf", "-", "."];
  const archive = execFileSync("tar", args, { maxBuffer: 512 * 1024 * 1024 });
  const listing = execFileSync("tar", ["-tvf", "-"], { input: archive, maxBuffer: 64 * 1024 * 1024 }).toString();
  return { listing, sha256: createHash("sha256").update(archive).digest("hex") };
}

async function activeSnapshots(sn: Snapshotter): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of sn.walk(ctx, ["kind==active"])) keys.push(info.name);
  return keys;
}

describe("unpack side by side (snapshotter with the rebase capability)", () => {
  it("applies layers of multi at once and commits the same chain, layer for layer, as one at a time", async () => {
    const { stores: inOrder } = await newStores();
    const { stores: sideBySide } = await newStores();
    const sequential = await overlayTarget(inOrder.content, false);
    const parallel = await overlayTarget(sideBySide.content, true);
    const a = await pullImage(inOrder, ctx, ociLayoutSource(fixtureLayout("multi"), "m:1"), { unpack: sequential });
    const b = await pullImage(sideBySide, ctx, ociLayoutSource(fixtureLayout("multi"), "m:1"), { unpack: parallel });

    expect(sequential.differ.most).toBe(1);
    expect(parallel.differ.most, "no two layers were ever applied at once").toBeGreaterThan(1);
    expect(b.chainId).toBe(a.chainId);
    const { diffIds } = await multiImage();
    const chain = chainIds(diffIds);
    for (const [i, name] of chain.entries()) {
      expect((await parallel.snapshotter.stat(ctx, name)).parent, `parent of layer ${i}`).toBe(i === 0 ? "" : chain[i - 1]);
      const want = layerListing(await layerDir(sequential.snapshotter, name));
      const got = layerListing(await layerDir(parallel.snapshotter, name));
      expect(got.listing, `layer ${i}`).toBe(want.listing);
      expect(got.sha256, `layer ${i}'s contents`).toBe(want.sha256);
    }
    expect(await activeSnapshots(parallel.snapshotter)).toEqual([]);
  }, 120_000);

  it("a layer that fails its diff ID check fails the unpack; the layers below stay committed, nothing else is left", async () => {
    const { stores } = await newStores();
    const image = await multiImage();
    await pullImage(stores, ctx, ociLayoutSource(fixtureLayout("multi"), "m:2"));
    const target = await overlayTarget(stores.content, true);
    const BAD = 3;
    const diffIds = image.diffIds.map((d, i) => (i === BAD ? `sha256:${"0".repeat(64)}` : d));
    const layers = image.layers.map((desc, i) => ({ desc, diffId: diffIds[i]!, fetched: Promise.resolve() }));
    const err = await unpackLayers(target, ctx, layers).then(() => undefined, (e: unknown) => e);
    expect(classOf(err)).toBe("FailedPrecondition");
    expect(String(err)).toContain(`expected ${diffIds[BAD]}`);

    const chain = chainIds(diffIds);
    const committed: string[] = [];
    for await (const info of target.snapshotter.walk(ctx, [])) committed.push(info.name);
    // Whatever was committed is a prefix of the chain below the bad layer; its siblings above are gone.
    expect(chain.slice(0, committed.length).sort()).toEqual(committed.sort());
    expect(committed.length).toBeLessThanOrEqual(BAD);
    expect(await activeSnapshots(target.snapshotter)).toEqual([]);

    // The next unpack of the real image finishes the chain from there.
    const good = image.layers.map((desc, i) => ({ desc, diffId: image.diffIds[i]!, fetched: Promise.resolve() }));
    expect(await unpackLayers(target, ctx, good)).toBe(chainIds(image.diffIds).at(-1));
  }, 120_000);
});
