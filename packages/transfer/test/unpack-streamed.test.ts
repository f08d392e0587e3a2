import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { classOf, type Descriptor, type Snapshotter } from "@berth/core";
import { createWalkingDiffer } from "@berth/differ";
import { createOverlaySnapshotter } from "@berth/snapshot-overlay";
import { ensureFixtureImages, fixtureLayout } from "@berth/testing";
import { ociLayoutSource, pullImage, type ImageSource, type UnpackTarget } from "../src/index.js";
import { ctx, newStores, onCleanup } from "./stores.js";

beforeAll(() => ensureFixtureImages());

async function tinyLayer(): Promise<Descriptor> {
  const dir = fixtureLayout("tiny");
  const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as { manifests: Descriptor[] };
  const manifest = JSON.parse(await readFile(join(dir, "blobs/sha256", index.manifests[0]!.digest.slice(7)), "utf8")) as { layers: Descriptor[] };
  return manifest.layers[0]!;
}

async function unpackTarget(content: Parameters<typeof createWalkingDiffer>[0]["content"]): Promise<UnpackTarget & { snapshotter: Snapshotter; root: string }> {
  const root = await mkdtemp(join(tmpdir(), "berth-transfer-overlay-"));
  onCleanup(() => rm(root, { recursive: true, force: true }));
  const snapshotter = await createOverlaySnapshotter(root, { syncRemove: true });
  onCleanup(() => snapshotter.close());
  return { name: "overlayfs", snapshotter, differ: createWalkingDiffer({ content }), root };
}

/**
 * The layer's first half in small chunks, then `atHalf()` decides: wait for something, or throw
 * (a dropped connection that is not retried).
 */
function gatedSource(source: ImageSource, layer: Descriptor, atHalf: () => Promise<void>): ImageSource {
  return {
    resolve: (signal) => source.resolve(signal),
    async *fetch(desc, opts) {
      let served = opts.offset;
      let gated = false;
      for await (const chunk of source.fetch(desc, opts)) {
        for (let at = 0; at < chunk.byteLength; at += 16 * 1024) {
          if (desc.digest === layer.digest && !gated && served >= layer.size / 2) {
            gated = true;
            await atHalf();
          }
          const piece = chunk.subarray(at, at + 16 * 1024);
          served += piece.byteLength;
          yield piece;
        }
      }
    },
  };
}

/** Waits until the (only) snapshot being prepared has files in it. */
async function appliedSome(root: string): Promise<void> {
  for (;;) {
    const dirs = await readdir(join(root, "snapshots"));
    const fs = dirs[0] && (await readdir(join(root, "snapshots", dirs[0], "fs")).catch(() => []));
    if (fs && fs.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function snapshotsOf(sn: Snapshotter): Promise<string[]> {
  const names: string[] = [];
  for await (const info of sn.walk(ctx, [])) names.push(info.name);
  return names;
}

describe("unpack behind the download", () => {
  it("starts applying a layer before its blob has finished downloading, and commits after it", async () => {
    const { stores } = await newStores();
    const layer = await tinyLayer();
    const target = await unpackTarget(stores.content);
    let unpacking!: () => void;
    const started = new Promise<void>((resolve) => (unpacking = resolve));
    const states: string[] = [];
    // The download holds at half the layer until its unpack has started: waiting for the whole
    // blob first would never get there.
    const source = gatedSource(ociLayoutSource(fixtureLayout("tiny"), "s:1"), layer, () => started);
    const result = await pullImage(stores, ctx, source, {
      unpack: target,
      onProgress: (p) => {
        if (p.digest !== layer.digest) return;
        states.push(p.state);
        if (p.state === "unpacking") unpacking();
      },
    });
    expect(states.indexOf("unpacking")).toBeLessThan(states.indexOf("done"));
    expect(states.indexOf("done")).toBeLessThan(states.indexOf("unpacked"));
    expect(await snapshotsOf(target.snapshotter)).toEqual([result.chainId]);
    const info = await target.snapshotter.stat(ctx, result.chainId!);
    expect(info.kind).toBe("committed");
    // The busybox layer's tree is there.
    const dirs = await readdir(join(target.root, "snapshots"));
    expect(dirs).toHaveLength(1);
    expect(await readdir(join(target.root, "snapshots", dirs[0]!, "fs", "bin"))).toContain("busybox");
  });

  it("a download that breaks mid-layer fails the pull and leaves no snapshot, committed or half-applied", async () => {
    const { stores } = await newStores();
    const layer = await tinyLayer();
    const target = await unpackTarget(stores.content);
    let unpacking!: () => void;
    const started = new Promise<void>((resolve) => (unpacking = resolve));
    const source = gatedSource(ociLayoutSource(fixtureLayout("tiny"), "s:2"), layer, async () => {
      await started;
      await appliedSome(target.root); // the unpack is writing from this download: now break it
      throw new Error("connection reset by peer");
    });
    const err = await pullImage(stores, ctx, source, {
      unpack: target,
      onProgress: (p) => p.digest === layer.digest && p.state === "unpacking" && unpacking(),
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain("connection reset by peer");
    expect(await snapshotsOf(target.snapshotter)).toEqual([]);
    expect(await readdir(join(target.root, "snapshots"))).toEqual([]);
    await expect(stores.images.get(ctx, "s:2")).rejects.toSatisfy((e) => classOf(e) === "NotFound");
  });
});
