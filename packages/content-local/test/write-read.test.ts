import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { requireDiskBacked, residentBytes } from "@berth/testing";
import { blob, ctx, errorClassOf, newStore, readAll, sha256 } from "./helpers.js";

describe("write, commit and read", () => {
  it("commits written bytes under blobs/sha256/<hex> and reads them back", async () => {
    const { store, root } = await newStore();
    const { data, digest } = blob(1000);
    const w = await store.writer(ctx, { ref: "r1", total: 1000, expected: digest });
    expect(await w.write(data.subarray(0, 400))).toBe(400);
    expect(await w.write(data.subarray(400))).toBe(1000);
    expect(w.digest()).toBe(digest);
    const info = await w.commit(1000, digest, { a: "1" });
    expect(info).toMatchObject({ digest, size: 1000, labels: { a: "1" } });

    const path = join(root, "blobs", "sha256", digest.slice(7));
    expect((await stat(path)).size).toBe(1000);
    expect((await stat(path)).mode & 0o222).toBe(0); // read-only once committed
    expect(Buffer.compare(await readAll(store.read(ctx, digest)), data)).toBe(0);
    expect(await readdir(join(root, "ingest"))).toEqual([]);
    expect(await store.info(ctx, digest)).toMatchObject({ digest, size: 1000, labels: { a: "1" } });
  });

  it("streams a 50 MB blob in chunks of at most 1 MiB, with offset and size", async () => {
    const { store } = await newStore();
    const { data, digest } = blob(50 * 1024 * 1024 + 123);
    const w = await store.writer(ctx, { ref: "big" });
    for (let at = 0; at < data.length; at += 3 * 1024 * 1024 + 7) await w.write(data.subarray(at, at + 3 * 1024 * 1024 + 7));
    await w.commit(data.length, digest);

    const sizes: number[] = [];
    const hash = (await import("node:crypto")).createHash("sha256");
    for await (const chunk of store.read(ctx, digest)) {
      sizes.push(chunk.byteLength);
      hash.update(chunk);
    }
    expect(`sha256:${hash.digest("hex")}`).toBe(digest);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1024 * 1024);
    expect(sizes.length).toBeGreaterThan(49);

    const offset = 7 * 1024 * 1024 + 5;
    expect(Buffer.compare(await readAll(store.read(ctx, digest, { offset, size: 2_500_000 })), data.subarray(offset, offset + 2_500_000))).toBe(0);
    expect(Buffer.compare(await readAll(store.read(ctx, digest, { offset: data.length - 10 })), data.subarray(data.length - 10))).toBe(0);
    // A size past the end is clamped, as containerd's Read does.
    expect(Buffer.compare(await readAll(store.read(ctx, digest, { offset: data.length - 3, size: 100 })), data.subarray(data.length - 3))).toBe(0);
    expect((await readAll(store.read(ctx, digest, { offset: data.length }))).length).toBe(0);
  });

  it("reads the same bytes either side of the small-read threshold (64 KiB), whole and in ranges", async () => {
    const { store } = await newStore();
    for (const length of [64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 200 * 1024]) {
      const { data, digest } = blob(length);
      const w = await store.writer(ctx, { ref: `edge-${length}` });
      await w.write(data);
      await w.commit(length, digest);
      expect(Buffer.compare(await readAll(store.read(ctx, digest)), data)).toBe(0);
      for (const [offset, size] of [[1, 0], [Math.max(0, length - 64 * 1024), 64 * 1024], [3, 64 * 1024 + 1], [length - 1, 5]] as const) {
        const got = await readAll(store.read(ctx, digest, { offset, size }));
        expect(Buffer.compare(got, data.subarray(offset, size > 0 ? offset + size : length))).toBe(0);
      }
    }
  });

  it("reading past the end is OutOfRange; an unknown digest is NotFound", async () => {
    const { store } = await newStore();
    const { data, digest } = blob(10);
    const w = await store.writer(ctx, { ref: "r" });
    await w.write(data);
    await w.commit(10, digest);
    expect(await errorClassOf(readAll(store.read(ctx, digest, { offset: 11 })))).toBe("OutOfRange");
    expect(await errorClassOf(readAll(store.read(ctx, digest, { offset: -1 })))).toBe("InvalidArgument");
    const unknown = sha256(Buffer.from("nope"));
    expect(await errorClassOf(readAll(store.read(ctx, unknown)))).toBe("NotFound");
    expect(await errorClassOf(store.info(ctx, unknown))).toBe("NotFound");
    expect(await errorClassOf(store.delete(ctx, unknown))).toBe("NotFound");
  });

  it("commits an empty blob", async () => {
    const { store } = await newStore();
    const empty = sha256(new Uint8Array());
    const w = await store.writer(ctx, { ref: "empty" });
    expect(w.digest()).toBe(empty);
    await w.commit(0, empty);
    expect((await store.info(ctx, empty)).size).toBe(0);
    expect((await readAll(store.read(ctx, empty))).length).toBe(0);
  });

  it("keeps writes in call order even when the caller does not await each one", async () => {
    const { store } = await newStore();
    const parts = [blob(5000).data, blob(7).data, blob(65536).data, blob(1).data];
    const all = Buffer.concat(parts);
    const w = await store.writer(ctx, { ref: "unawaited" });
    const offsets = await Promise.all(parts.map((p) => w.write(p)));
    expect(offsets).toEqual([5000, 5007, 70543, 70544]);
    await w.commit(all.length, sha256(all));
    expect(Buffer.compare(await readAll(store.read(ctx, sha256(all))), all)).toBe(0);
  });

  it("the namespace of the context does not matter to this backend", async () => {
    const { store } = await newStore();
    const { data, digest } = blob(100);
    const w = await store.writer({ namespace: "a" }, { ref: "ns" });
    await w.write(data);
    await w.commit(100, digest);
    expect((await store.info({ namespace: "b" }, digest)).size).toBe(100);
  });

  it("stops reading when the context's signal aborts", async () => {
    const { store } = await newStore();
    const { data, digest } = blob(3 * 1024 * 1024);
    const w = await store.writer(ctx, { ref: "abortable" });
    await w.write(data);
    await w.commit(data.length, digest);
    const controller = new AbortController();
    let chunks = 0;
    const reading = (async () => {
      for await (const _ of store.read({ namespace: "default", signal: controller.signal }, digest)) {
        chunks++;
        controller.abort();
      }
    })();
    expect(await errorClassOf(reading)).toBe("Canceled");
    expect(chunks).toBe(1);
  });
});

describe("page cache", () => {
  it("hands an ingest's written pages back to the kernel as it goes, and the blob reads back whole", async () => {
    const { store, root } = await newStore();
    await requireDiskBacked(root);
    const { data, digest } = blob(40 * 1024 * 1024);
    const w = await store.writer(ctx, { ref: "behind" });
    for (let at = 0; at < data.length; at += 1024 * 1024) await w.write(data.subarray(at, at + 1024 * 1024));
    await w.commit(data.length, digest);
    const path = join(root, "blobs", "sha256", digest.slice(7));
    // What is left cached is what was written after the last hand-back: under two 8 MiB windows.
    expect(await residentBytes(path)).toBeLessThan(16 * 1024 * 1024);
    expect(Buffer.compare(await readAll(store.read(ctx, digest)), data)).toBe(0);
  });
});
