import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { blob, ctx, errorClassOf, newStore, rejection, sha256, writeBlob } from "./helpers.js";

describe("commit verification", () => {
  it("a wrong digest is FailedPrecondition: nothing committed, the ingest stays", async () => {
    const { store, root } = await newStore();
    const { data, digest } = blob(4096);
    const other = blob(4096).digest;
    const w = await store.writer(ctx, { ref: "wrong-digest" });
    await w.write(data);
    const err = await rejection(w.commit(4096, other));
    expect(await errorClassOf(Promise.reject(err))).toBe("FailedPrecondition");
    expect(err.message).toContain(digest);

    expect(await readdir(join(root, "blobs", "sha256"))).toEqual([]);
    expect(await errorClassOf(store.info(ctx, digest))).toBe("NotFound");
    expect(await errorClassOf(store.info(ctx, other))).toBe("NotFound");
    expect(await store.status(ctx, "wrong-digest")).toMatchObject({ ref: "wrong-digest", offset: 4096 });

    // As containerd: the failed commit released the ref; a new writer resumes and commits.
    const again = await store.writer(ctx, { ref: "wrong-digest" });
    expect((await again.status()).offset).toBe(4096);
    await again.commit(4096, digest);
    expect(await readdir(join(root, "blobs", "sha256"))).toEqual([digest.slice(7)]);
  });

  it("a wrong size is FailedPrecondition and leaves blobs/ untouched", async () => {
    const { store, root } = await newStore();
    const { data, digest } = blob(100);
    const w = await store.writer(ctx, { ref: "wrong-size" });
    await w.write(data);
    expect(await errorClassOf(w.commit(99, digest))).toBe("FailedPrecondition");
    expect(await errorClassOf(w.commit(100, digest))).toBe("FailedPrecondition"); // released: closed writer
    expect(await readdir(join(root, "blobs", "sha256"))).toEqual([]);
    expect((await stat(join(root, "ingest"))).isDirectory()).toBe(true);
    expect((await store.listStatuses(ctx, [])).map((s) => s.ref)).toEqual(["wrong-size"]);
  });

  it("committing content that exists is AlreadyExists and drops the ingest", async () => {
    const { store } = await newStore();
    const { data, digest } = blob(256);
    await writeBlob(store, "first", data);
    const w = await store.writer(ctx, { ref: "second" });
    await w.write(data);
    expect(await errorClassOf(w.commit(256, ""))).toBe("AlreadyExists");
    expect(await errorClassOf(store.status(ctx, "second"))).toBe("NotFound");
    expect((await store.info(ctx, digest)).size).toBe(256);
  });

  it("writer() with an expected digest that exists is AlreadyExists and holds no lock", async () => {
    const { store } = await newStore();
    const { data, digest } = blob(64);
    await writeBlob(store, "x", data);
    expect(await errorClassOf(store.writer(ctx, { ref: "y", expected: digest }))).toBe("AlreadyExists");
    const w = await store.writer(ctx, { ref: "y" });
    await w.close();
  });

  it("only committed blobs are ever in blobs/, whatever fails", async () => {
    const { store, root } = await newStore();
    const good = blob(1000);
    await writeBlob(store, "good", good.data);
    for (const [i, attempt] of [
      (w: Awaited<ReturnType<typeof store.writer>>) => w.commit(1, ""),
      (w: Awaited<ReturnType<typeof store.writer>>) => w.commit(0, blob(1).digest),
      (w: Awaited<ReturnType<typeof store.writer>>) => w.commit(0, "", { k: "v".repeat(5000) }),
    ].entries()) {
      const w = await store.writer(ctx, { ref: `bad-${i}` });
      await w.write(blob(2000).data);
      await expect(attempt(w)).rejects.toThrow();
    }
    const partial = await store.writer(ctx, { ref: "partial" });
    await partial.write(blob(10).data);
    expect(await readdir(join(root, "blobs", "sha256"))).toEqual([good.digest.slice(7)]);
    await partial.close();
  });

  it("a closed writer refuses further use", async () => {
    const { store } = await newStore();
    const w = await store.writer(ctx, { ref: "closed" });
    await w.close();
    await w.close(); // closing twice is harmless
    expect(await errorClassOf(w.write(Buffer.from("x")))).toBe("FailedPrecondition");
    const { data, digest } = blob(3);
    const w2 = await store.writer(ctx, { ref: "committed" });
    await w2.write(data);
    await w2.commit(3, digest);
    expect(await errorClassOf(w2.write(data))).toBe("FailedPrecondition");
    await w2.close();
  });

  it("commit labels are validated like containerd's (key + value ≤ 4096 bytes)", async () => {
    const { store } = await newStore();
    const { data, digest } = blob(5);
    const w = await store.writer(ctx, { ref: "labels" });
    await w.write(data);
    const err = await rejection(w.commit(5, digest, { big: "x".repeat(4094) }));
    expect(await errorClassOf(Promise.reject(err))).toBe("InvalidArgument");
    expect(err.message).toContain("greater than maximum size");
    const w2 = await store.writer(ctx, { ref: "labels" });
    const info = await w2.commit(5, digest, { big: "x".repeat(4093) });
    expect(info.labels["big"]).toHaveLength(4093);
    expect(sha256(data)).toBe(digest);
  });
});
