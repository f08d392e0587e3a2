import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLocalContentStore } from "../src/index.js";
import { blob, ctx, errorClassOf, newStore, readAll, sha256 } from "./helpers.js";

describe("resumable ingests", () => {
  it("after close(), a new writer resumes at the same offset with the same digest state", async () => {
    const { store } = await newStore();
    const { data, digest } = blob(50_000);
    const w1 = await store.writer(ctx, { ref: "resume", total: 50_000, expected: digest });
    await w1.write(data.subarray(0, 20_000));
    const partial = w1.digest();
    await w1.close();

    const w2 = await store.writer(ctx, { ref: "resume", total: 50_000, expected: digest });
    expect(await w2.status()).toMatchObject({ ref: "resume", offset: 20_000, total: 50_000, expected: digest });
    expect(w2.digest()).toBe(partial);
    expect(w2.digest()).toBe(sha256(data.subarray(0, 20_000)));
    await w2.write(data.subarray(20_000));
    await w2.commit(50_000, digest);
    expect(Buffer.compare(await readAll(store.read(ctx, digest)), data)).toBe(0);
  });

  it("a new store over the same root (a restart) sees the ingest and resumes it", async () => {
    const { store, root } = await newStore();
    const { data, digest } = blob(3 * 1024 * 1024 + 17); // more than one re-read chunk
    const w1 = await store.writer(ctx, { ref: "layer-1", total: data.length, expected: digest });
    await w1.write(data.subarray(0, 2 * 1024 * 1024 + 3));
    await w1.close();

    const restarted = await createLocalContentStore(root);
    const status = await restarted.status(ctx, "layer-1");
    expect(status).toMatchObject({ ref: "layer-1", offset: 2 * 1024 * 1024 + 3, total: data.length, expected: digest });
    expect(status.startedAt.getTime()).toBeLessThanOrEqual(status.updatedAt.getTime());
    expect((await restarted.listStatuses(ctx, [])).map((s) => s.ref)).toEqual(["layer-1"]);

    const w2 = await restarted.writer(ctx, { ref: "layer-1" });
    const resumed = await w2.status();
    expect(resumed.offset).toBe(status.offset);
    expect(resumed.total).toBe(data.length); // remembered from the first writer
    expect(w2.digest()).toBe(sha256(data.subarray(0, status.offset)));
    await w2.write(data.subarray(status.offset));
    const info = await w2.commit(0, "");
    expect(info.digest).toBe(digest);
    expect(Buffer.compare(await readAll(restarted.read(ctx, digest)), data)).toBe(0);
  });

  it("writes the ingest files containerd writes", async () => {
    const { store, root } = await newStore();
    const w = await store.writer(ctx, { ref: "docker.io/library/alpine:latest", total: 42 });
    await w.write(Buffer.from("abc"));
    await w.close();
    const [dir] = await readdir(join(root, "ingest"));
    expect(dir).toBe(sha256(Buffer.from("docker.io/library/alpine:latest")).slice(7));
    const files = (await readdir(join(root, "ingest", dir!))).sort();
    expect(files).toEqual(["data", "ref", "startedat", "total", "updatedat"]);
    expect(await readFile(join(root, "ingest", dir!, "ref"), "utf8")).toBe("docker.io/library/alpine:latest");
    expect(await readFile(join(root, "ingest", dir!, "total"), "utf8")).toBe("42");
    expect(Number.isNaN(Date.parse(await readFile(join(root, "ingest", dir!, "startedat"), "utf8")))).toBe(false);
  });

  it("truncate(0) restarts the ingest; truncate(n) keeps n bytes and their digest", async () => {
    const { store } = await newStore();
    const { data, digest } = blob(10_000);
    const w = await store.writer(ctx, { ref: "trunc" });
    await w.write(Buffer.from("bad data"));
    await w.truncate(0);
    expect((await w.status()).offset).toBe(0);
    await w.write(data);
    await w.truncate(4000);
    expect(w.digest()).toBe(sha256(data.subarray(0, 4000)));
    expect(await errorClassOf(w.truncate(5000))).toBe("OutOfRange");
    expect(await w.write(data.subarray(4000))).toBe(10_000);
    await w.commit(10_000, digest);
    expect(Buffer.compare(await readAll(store.read(ctx, digest)), data)).toBe(0);
  });

  it("an ingest reopened for a different size starts again from empty", async () => {
    const { store } = await newStore();
    const w1 = await store.writer(ctx, { ref: "changed", total: 100 });
    await w1.write(blob(50).data);
    await w1.close();
    const w2 = await store.writer(ctx, { ref: "changed", total: 200 });
    expect(await w2.status()).toMatchObject({ offset: 0, total: 200 });
    expect(w2.digest()).toBe(sha256(new Uint8Array()));
    await w2.close();
  });

  it("an incomplete ingest directory (no ref file) is not listed and is started again", async () => {
    const { store, root } = await newStore();
    const w1 = await store.writer(ctx, { ref: "broken" });
    await w1.write(blob(10).data);
    await w1.close();
    const dir = join(root, "ingest", sha256(Buffer.from("broken")).slice(7));
    await (await import("node:fs/promises")).rm(join(dir, "ref"));
    expect(await store.listStatuses(ctx, [])).toEqual([]);
    expect(await errorClassOf(store.status(ctx, "broken"))).toBe("NotFound");
    const w2 = await store.writer(ctx, { ref: "broken" });
    expect((await w2.status()).offset).toBe(0);
    await w2.close();
    expect((await store.status(ctx, "broken")).ref).toBe("broken");
  });
});
