import { readdir, utimes } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { classOf } from "@berth/core";
import { createLocalContentStore } from "../src/index.js";
import { blob, ctx, errorClassOf, newStore, readAll, rejection, sha256 } from "./helpers.js";

describe("ingest locking and management", () => {
  it("a second writer on a held ref is Unavailable, mentioning the lock", async () => {
    const { store } = await newStore();
    const w = await store.writer(ctx, { ref: "held/by/one" });
    const err = await rejection(store.writer(ctx, { ref: "held/by/one" }));
    expect(classOf(err)).toBe("Unavailable");
    expect(err.message).toMatch(/ref held\/by\/one locked for/);
    await w.close();
    const again = await store.writer(ctx, { ref: "held/by/one" });
    await again.close();
  });

  it("the lock is shared by two store objects over one root", async () => {
    const { store, root } = await newStore();
    const other = await createLocalContentStore(root);
    const w = await store.writer(ctx, { ref: "shared" });
    expect(await errorClassOf(other.writer(ctx, { ref: "shared" }))).toBe("Unavailable");
    await w.close();
  });

  it("two concurrent writers of one ref: exactly one wins", async () => {
    const { store } = await newStore();
    const results = await Promise.allSettled([store.writer(ctx, { ref: "race" }), store.writer(ctx, { ref: "race" })]);
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(classOf(lost[0]!.reason)).toBe("Unavailable");
    expect(String(lost[0]!.reason.message)).toContain("locked");
    const { data, digest } = blob(1234);
    const w = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof store.writer>>>).value;
    await w.write(data);
    await w.commit(1234, digest);
  });

  it("eight concurrent writers of different blobs all commit", async () => {
    const { store, root } = await newStore();
    const blobs = Array.from({ length: 8 }, (_, i) => blob(200_000 + i * 1000));
    await Promise.all(
      blobs.map(async ({ data, digest }, i) => {
        const w = await store.writer(ctx, { ref: `parallel-${i}`, total: data.length, expected: digest });
        for (let at = 0; at < data.length; at += 32_768) await w.write(data.subarray(at, at + 32_768));
        await w.commit(data.length, digest);
      }),
    );
    expect((await readdir(join(root, "blobs", "sha256"))).sort()).toEqual(blobs.map((b) => b.digest.slice(7)).sort());
    for (const { data, digest } of blobs) expect(Buffer.compare(await readAll(store.read(ctx, digest)), data)).toBe(0);
    expect(await readdir(join(root, "ingest"))).toEqual([]);
  });

  it("two refs committing the same content: one commits, the other gets AlreadyExists", async () => {
    const { store } = await newStore();
    const { data, digest } = blob(100_000);
    const writers = await Promise.all([store.writer(ctx, { ref: "same-a" }), store.writer(ctx, { ref: "same-b" })]);
    await Promise.all(writers.map((w) => w.write(data)));
    const results = await Promise.allSettled(writers.map((w) => w.commit(data.length, digest)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(classOf(failed?.reason)).toBe("AlreadyExists");
    expect(await store.listStatuses(ctx, [])).toEqual([]);
  });

  it("listStatuses filters by ref", async () => {
    const { store } = await newStore();
    for (const ref of ["upload-1", "upload-2", "download-1"]) {
      const w = await store.writer(ctx, { ref });
      await w.write(Buffer.from(ref));
      await w.close();
    }
    const refs = async (filters: string[]) => (await store.listStatuses(ctx, filters)).map((s) => s.ref).sort();
    expect(await refs([])).toEqual(["download-1", "upload-1", "upload-2"]);
    expect(await refs(['ref~="^up"'])).toEqual(["upload-1", "upload-2"]);
    expect(await refs(["ref==download-1", "ref==upload-2"])).toEqual(["download-1", "upload-2"]);
    expect(await errorClassOf(store.listStatuses(ctx, ["ref=="]))).toBe("InvalidArgument");
  });

  it("abort removes the ingest directory; aborting again is NotFound", async () => {
    const { store, root } = await newStore();
    const w = await store.writer(ctx, { ref: "to-abort" });
    await w.write(blob(100).data);
    await w.close();
    await store.abort(ctx, "to-abort");
    expect(await readdir(join(root, "ingest"))).toEqual([]);
    expect(await errorClassOf(store.status(ctx, "to-abort"))).toBe("NotFound");
    expect(await errorClassOf(store.abort(ctx, "to-abort"))).toBe("NotFound");
  });

  it("abort under a live writer ends that writer and frees the ref", async () => {
    const { store, root } = await newStore();
    const w = await store.writer(ctx, { ref: "live" });
    await w.write(blob(100).data);
    await store.abort(ctx, "live");
    expect(await readdir(join(root, "ingest"))).toEqual([]);
    const err = await rejection(w.write(blob(1).data));
    expect(classOf(err)).toBe("FailedPrecondition");
    expect(err.message).toContain("aborted");
    const fresh = await store.writer(ctx, { ref: "live" });
    expect((await fresh.status()).offset).toBe(0);
    await fresh.close();
  });

  it("expireIngests removes idle ingests only, never one being written", async () => {
    const { store, root } = await newStore();
    const write = async (ref: string) => {
      const w = await store.writer(ctx, { ref });
      await w.write(Buffer.from(ref));
      await w.close();
    };
    await write("old");
    await write("new");
    const live = await store.writer(ctx, { ref: "old-but-live" });
    await live.write(Buffer.from("x"));
    const hour = 3_600_000;
    const past = new Date(Date.now() - 2 * hour);
    for (const ref of ["old", "old-but-live"]) {
      const dir = join(root, "ingest", sha256(Buffer.from(ref)).slice(7));
      await (await import("node:fs/promises")).writeFile(join(dir, "updatedat"), past.toISOString());
      await utimes(join(dir, "data"), past, past);
    }
    expect(await store.expireIngests(hour)).toEqual(["old"]);
    expect((await store.listStatuses(ctx, [])).map((s) => s.ref).sort()).toEqual(["new", "old-but-live"]);
    expect(await store.expireIngests(hour)).toEqual([]);
    await live.close();
  });

  it("ingestExpiry cleans expired ingests when the store opens", async () => {
    const { store, root } = await newStore();
    const w = await store.writer(ctx, { ref: "stale" });
    await w.write(Buffer.from("abc"));
    await w.close();
    const dir = join(root, "ingest", sha256(Buffer.from("stale")).slice(7));
    const past = new Date(Date.now() - 48 * 3_600_000);
    await (await import("node:fs/promises")).writeFile(join(dir, "updatedat"), past.toISOString());
    await utimes(join(dir, "data"), past, past);

    await createLocalContentStore(root); // default: never expire
    expect((await store.listStatuses(ctx, [])).map((s) => s.ref)).toEqual(["stale"]);
    await createLocalContentStore(root, { ingestExpiry: 24 * 3_600_000 });
    expect(await store.listStatuses(ctx, [])).toEqual([]);
  });
});
