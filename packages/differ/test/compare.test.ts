import { lstatSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, zstdDecompressSync } from "node:zlib";
import { beforeEach, describe, expect, it } from "vitest";
import { classOf, type Mount } from "@berth/core";
import { mountAll, unmountAll } from "@berth/mount";
import {
  createWalkingDiffer,
  LABEL_UNCOMPRESSED,
  MEDIA_TYPE_LAYER,
  MEDIA_TYPE_LAYER_GZIP,
  MEDIA_TYPE_LAYER_ZSTD,
  readTar,
} from "../src/index.js";
import { ctx, newContentStore, readBlob, sha256 } from "./content.js";
import { bindMount } from "./multi.js";
import { afterThisTest, requireRoot, tempDir } from "./temp.js";
import { manifestDiff, treeManifest } from "./tree-manifest.js";
import { changeTree, copyTree, makeLowerTree } from "./trees.js";

async function names(tar: Buffer): Promise<string[]> {
  const out: string[] = [];
  for await (const r of readTar([tar])) out.push(r.entry.name);
  return out;
}

const ro = (dir: string): Mount => ({ type: "bind", source: dir, options: ["rbind", "ro"] });

describe("compare", () => {
  beforeEach(() => requireRoot());

  it("walks two plain trees; applying the diff to a copy of the lower gives the upper", async () => {
    const base = await tempDir();
    const [lower, upper, target] = ["lower", "upper", "target"].map((d) => join(base, d)) as [string, string, string];
    makeLowerTree(lower);
    await copyTree(lower, upper);
    changeTree(upper);
    await copyTree(lower, target);

    const store = await newContentStore();
    const differ = createWalkingDiffer({ content: store });
    const desc = await differ.compare(ctx, [ro(lower)], [bindMount(upper)]);
    expect(desc.mediaType).toBe(MEDIA_TYPE_LAYER_GZIP);
    const blob = await readBlob(store, desc.digest);
    expect(desc.size).toBe(blob.length);
    const tar = gunzipSync(blob);
    expect((await store.info(ctx, desc.digest)).labels[LABEL_UNCOMPRESSED]).toBe(sha256(tar));
    const entries = await names(tar);
    expect(entries).toEqual(expect.arrayContaining([".wh.gone.txt", ".wh.gonedir", "opq/.wh.one", "new.txt", "keep/same-size.txt"]));
    expect(entries).not.toContain("keep/owner.txt/"); // sanity: files are not dirs
    expect(entries.filter((n) => n.startsWith("gonedir/"))).toEqual([]);

    await differ.apply(ctx, desc, [bindMount(target)]);
    expect(manifestDiff(treeManifest(target), treeManifest(upper))).toEqual([]);
    expect(lstatSync(join(target, "hl1")).ino).toBe(lstatSync(join(target, "hl2")).ino);
  });

  it("reads an overlay upper dir as the diff (whiteouts, opaque dirs); applying it reproduces the merged view", async () => {
    const base = await tempDir();
    const [lower, upper, work, merged, target, view] = ["lower", "upper", "work", "merged", "target", "view"].map((d) => join(base, d)) as [
      string, string, string, string, string, string,
    ];
    makeLowerTree(lower);
    for (const d of [upper, work, merged, view]) mkdirSync(d);
    const overlay: Mount = { type: "overlay", source: "overlay", options: [`workdir=${work}`, `upperdir=${upper}`, `lowerdir=${lower}`] };
    await mountAll([overlay], merged);
    afterThisTest(() => unmountAll(merged));
    changeTree(merged);
    await unmountAll(merged);

    const store = await newContentStore();
    const differ = createWalkingDiffer({ content: store });
    const desc = await differ.compare(ctx, [ro(lower)], [overlay]);
    const entries = await names(gunzipSync(await readBlob(store, desc.digest)));
    expect(entries).toEqual(expect.arrayContaining(["opq/", "opq/.wh..wh..opq", "opq/fresh", ".wh.gone.txt", ".wh.gonedir"]));
    expect(entries).not.toContain("opq/.wh.one"); // the opaque marker says it all

    await copyTree(lower, target);
    await differ.apply(ctx, desc, [bindMount(target)]);
    await mountAll([{ type: "overlay", source: "overlay", options: ["ro", `lowerdir=${upper}:${lower}`] }], view);
    afterThisTest(() => unmountAll(view));
    expect(manifestDiff(treeManifest(target), treeManifest(view))).toEqual([]);
  });

  it("writes uncompressed and zstd layers, labels them, and accepts an existing blob", async () => {
    const base = await tempDir();
    const [lower, upper] = ["lower", "upper"].map((d) => join(base, d)) as [string, string];
    makeLowerTree(lower);
    await copyTree(lower, upper);
    changeTree(upper);
    const store = await newContentStore();
    const differ = createWalkingDiffer({ content: store });

    const plain = await differ.compare(ctx, [ro(lower)], [bindMount(upper)], { mediaType: MEDIA_TYPE_LAYER, labels: { "example.com/x": "1" } });
    const plainInfo = await store.info(ctx, plain.digest);
    expect(plainInfo.labels).toEqual({ "example.com/x": "1", [LABEL_UNCOMPRESSED]: plain.digest });

    const zstd = await differ.compare(ctx, [ro(lower)], [bindMount(upper)], { mediaType: MEDIA_TYPE_LAYER_ZSTD, ref: "my-ref" });
    expect(zstd.mediaType).toBe(MEDIA_TYPE_LAYER_ZSTD);
    expect(sha256(zstdDecompressSync(await readBlob(store, zstd.digest)))).toBe(plain.digest);

    const again = await differ.compare(ctx, [ro(lower)], [bindMount(upper)], { mediaType: MEDIA_TYPE_LAYER });
    expect(again).toEqual(plain);
    expect(await store.listStatuses(ctx, [])).toEqual([]);

    const err = await differ.compare(ctx, [ro(lower)], [bindMount(upper)], { mediaType: "application/x-rar" }).catch((e: unknown) => e);
    expect(classOf(err)).toBe("NotImplemented");
  });

  it("diffs against nothing (a first layer): every entry is added", async () => {
    const base = await tempDir();
    const upper = join(base, "upper");
    makeLowerTree(upper);
    const store = await newContentStore();
    const differ = createWalkingDiffer({ content: store });
    const desc = await differ.compare(ctx, [], [bindMount(upper)]);
    const target = join(base, "target");
    mkdirSync(target);
    await differ.apply(ctx, desc, [bindMount(target)]);
    expect(manifestDiff(treeManifest(target), treeManifest(upper))).toEqual([]);
  });
});
