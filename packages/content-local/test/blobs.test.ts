import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ContentInfo } from "@berth/core";
import { createLocalContentStore } from "../src/index.js";
import { blob, ctx, errorClassOf, newStore, writeBlob } from "./helpers.js";

async function walk(iterable: AsyncIterable<ContentInfo>): Promise<ContentInfo[]> {
  const out: ContentInfo[] = [];
  for await (const info of iterable) out.push(info);
  return out;
}

describe("committed blobs", () => {
  it("update with labels.<key> changes that key only; an absent or empty value removes it", async () => {
    const { store } = await newStore();
    const { data, digest } = blob(10);
    const committed = await writeBlob(store, "u", data, { a: "1", b: "2", c: "3" });
    const updated = await store.update(ctx, { digest, labels: { a: "10", b: "", d: "4" } }, ["labels.a", "labels.b", "labels.c", "labels.d"]);
    expect(updated.labels).toEqual({ a: "10", d: "4" });
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(committed.createdAt.getTime());
    expect((await store.info(ctx, digest)).labels).toEqual({ a: "10", d: "4" });
  });

  it('update with "labels" (or no fieldpaths) replaces every label', async () => {
    const { store } = await newStore();
    const { data, digest } = blob(10);
    await writeBlob(store, "u", data, { a: "1", b: "2" });
    expect((await store.update(ctx, { digest, labels: { z: "26" } }, ["labels"])).labels).toEqual({ z: "26" });
    expect((await store.update(ctx, { digest, labels: { y: "25" } }, [])).labels).toEqual({ y: "25" });
    expect((await store.update(ctx, { digest, labels: {} }, ["labels"])).labels).toEqual({});
    expect((await store.info(ctx, digest)).labels).toEqual({});
  });

  it("update: unknown fieldpath is InvalidArgument, unknown blob NotFound, oversized label InvalidArgument", async () => {
    const { store } = await newStore();
    const { data, digest } = blob(10);
    await writeBlob(store, "u", data, { keep: "me" });
    expect(await errorClassOf(store.update(ctx, { digest, labels: {} }, ["size"]))).toBe("InvalidArgument");
    expect(await errorClassOf(store.update(ctx, { digest: blob(1).digest, labels: { a: "b" } }, ["labels"]))).toBe("NotFound");
    expect(await errorClassOf(store.update(ctx, { digest, labels: { k: "v".repeat(4096) } }, ["labels.k"]))).toBe("InvalidArgument");
    expect(await errorClassOf(store.update(ctx, { digest, labels: { ["k".repeat(4097)]: "" } }, ["labels"]))).toBe("InvalidArgument");
    expect((await store.info(ctx, digest)).labels).toEqual({ keep: "me" });
  });

  it("labels survive a restart", async () => {
    const { store, root } = await newStore();
    const { data, digest } = blob(10);
    await writeBlob(store, "l", data, { "containerd.io/gc.root": "2024-01-01T00:00:00Z" });
    await store.update(ctx, { digest, labels: { x: "y" } }, ["labels.x"]);
    const reopened = await createLocalContentStore(root);
    expect((await reopened.info(ctx, digest)).labels).toEqual({ "containerd.io/gc.root": "2024-01-01T00:00:00Z", x: "y" });
  });

  it("walk yields every blob, or those matching any filter on digest, size and labels", async () => {
    const { store } = await newStore();
    const a = blob(100);
    const b = blob(200);
    const c = blob(300);
    await writeBlob(store, "a", a.data, { tier: "hot", "containerd.io/distribution.source.docker.io": "library/alpine" });
    await writeBlob(store, "b", b.data, { tier: "cold" });
    await writeBlob(store, "c", c.data);
    const digests = async (filters: string[]) => (await walk(store.walk(ctx, filters))).map((i) => i.digest).sort();

    expect(await digests([])).toEqual([a.digest, b.digest, c.digest].sort());
    expect(await digests(["labels.tier==hot"])).toEqual([a.digest]);
    expect(await digests(["labels.tier"])).toEqual([a.digest, b.digest].sort());
    expect(await digests(['labels."containerd.io/distribution.source.docker.io"~="alpine$"'])).toEqual([a.digest]);
    expect(await digests([`digest==${c.digest}`, "labels.tier==cold"])).toEqual([b.digest, c.digest].sort());
    expect(await digests(["size==200"])).toEqual([b.digest]);
    expect(await digests(["labels.tier!=hot,size!=100"])).toEqual([b.digest, c.digest].sort());
    expect(await errorClassOf(walk(store.walk(ctx, ["labels.tier=="])))).toBe("InvalidArgument");

    const [info] = await walk(store.walk(ctx, [`digest==${a.digest}`]));
    expect(info).toMatchObject({ size: 100, labels: { tier: "hot" } });
  });

  it("delete removes the blob and its labels; deleting again is NotFound", async () => {
    const { store, root } = await newStore();
    const { data, digest } = blob(10);
    await writeBlob(store, "d", data, { a: "b" });
    await store.delete(ctx, digest);
    expect(await readdir(join(root, "blobs", "sha256"))).toEqual([]);
    expect(await readdir(join(root, "labels"))).toEqual([]);
    expect(await errorClassOf(store.info(ctx, digest))).toBe("NotFound");
    expect(await errorClassOf(store.delete(ctx, digest))).toBe("NotFound");
    // Committing it again starts without the old labels.
    expect((await writeBlob(store, "d2", data)).labels).toEqual({});
  });
});
