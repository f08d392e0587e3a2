import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MetaDb } from "../src/db.js";
import { expectError, ns, setup, tempDir } from "./helpers.js";

const image = (name: string, labels: Record<string, string> = {}) => ({
  name,
  labels,
  target: { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${"e".repeat(64)}`, size: 1 },
});

describe("transactions", () => {
  it("roll back every write of a mutation that throws midway", async () => {
    const db = MetaDb.open(join(await tempDir(), "t.lmdb"));
    try {
      db.update((tx) => tx.put(["kept"], 1));
      expect(() =>
        db.update((tx) => {
          tx.put(["a"], 1);
          tx.put(["b"], { deep: [1, 2] });
          tx.remove(["kept"]);
          expect(tx.get(["a"])).toBe(1); // visible inside the transaction
          throw new Error("boom");
        }),
      ).toThrow("boom");
      expect(db.get(["a"])).toBeUndefined();
      expect(db.get(["b"])).toBeUndefined();
      expect(db.get(["kept"])).toBe(1);
    } finally {
      await db.close();
    }
  });

  it("refuse an async transaction body and commit nothing from it", async () => {
    const db = MetaDb.open(join(await tempDir(), "t.lmdb"));
    try {
      expect(() =>
        db.update(async (tx) => {
          tx.put(["async"], 1);
        }),
      ).toThrow(/synchronous/);
      expect(db.get(["async"])).toBeUndefined();
    } finally {
      await db.close();
    }
  });

  it("leave no implicit namespace or image when a store mutation fails inside its transaction", async () => {
    const { store } = await setup();
    // The namespace record is written first, then the lease check throws.
    await expectError(
      store.images.create(ns("fresh", "missing-lease"), image("img", { "containerd.io/gc.expire": "2030-01-01T00:00:00Z" })),
      "NotFound",
    );
    await expectError(store.namespaces.get("fresh"), "NotFound");
    expect(await store.images.list(ns("fresh"), [])).toEqual([]);
  });

  it("leave a failed update's record untouched", async () => {
    const { store } = await setup();
    const created = await store.images.create(ns("default"), image("img", { a: "1" }));
    await expectError(
      store.images.update(ns("default", "missing"), image("img", { "containerd.io/gc.expire": "x", a: "2" }), ["labels"]),
      "NotFound",
    );
    expect(await store.images.get(ns("default"), "img")).toEqual(created);
  });

  it("record no ownership when a commit's transaction fails after the backend committed", async () => {
    const { store, backend } = await setup();
    const ctx = ns("default", "short-lived");
    await store.leases.create(ctx, { id: "short-lived", labels: {} });
    const w = await store.content.writer(ctx, { ref: "r" });
    await w.write(Buffer.from("orphaned"));
    await store.leases.delete(ctx, "short-lived");
    await expectError(w.commit(0, ""), "NotFound");

    const digest = w.digest();
    expect(backend.blobs.has(digest)).toBe(true);
    await expectError(store.content.info(ns("default"), digest), "NotFound");
    // The bytes are nobody's: the collector will be told.
    expect((await store.unreferencedContent()).blobs).toEqual([digest]);
  });
});

describe("names too long to store", () => {
  it("are refused on write and simply not found on read", async () => {
    const { store } = await setup();
    const huge = "n".repeat(3000);
    await expectError(store.images.create(ns("default"), image(huge)), "InvalidArgument");
    await expectError(store.images.get(ns("default"), huge), "NotFound");
    await expectError(store.images.delete(ns("default"), huge), "NotFound");
    await expectError(store.leases.create(ns("default"), { id: huge, labels: {} }), "InvalidArgument");
    await expectError(store.leases.listResources(ns("default"), huge), "NotFound");
    await expectError(store.content.status(ns("default"), huge), "NotFound");
    await expectError(store.content.writer(ns("default"), { ref: huge }), "InvalidArgument");
    await store.leases.create(ns("default"), { id: "l", labels: {} });
    await expectError(store.leases.addResource(ns("default"), "l", { type: `snapshots/${"s".repeat(200)}`, id: "k" }), "InvalidArgument");
  });
});
