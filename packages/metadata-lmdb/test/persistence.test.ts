import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MetaDb } from "../src/db.js";
import { SCHEMA_VERSION_KEY } from "../src/keys.js";
import { MIGRATIONS, SCHEMA_VERSION, openMetadataStore, type Migration } from "../src/index.js";
import { collect, expectError, ns, readAll, setup, tempDir, writeBlob } from "./helpers.js";
import { createMemoryContentStore } from "./memory-content-store.js";

const ctx = ns("default");
const target = { mediaType: "application/vnd.oci.image.index.v1+json", digest: `sha256:${"f".repeat(64)}`, size: 3 };

/** The real migrations, counting how often each runs. */
function counted(): { migrations: Migration[]; runs: number[] } {
  const runs: number[] = [];
  const migrations = MIGRATIONS.map((m) => ({
    ...m,
    migrate: (tx: Parameters<Migration["migrate"]>[0]) => {
      runs.push(m.version);
      m.migrate(tx);
    },
  }));
  return { migrations, runs };
}

describe("persistence", () => {
  it("keeps everything across a close and reopen (a restart)", async () => {
    const fx = await setup();
    let store = fx.store;
    await store.namespaces.create("default", { env: "test" });
    const img = await store.images.create(ctx, { name: "img:1", labels: { a: "b" }, target });
    const ctr = await store.containers.create(ctx, {
      id: "c1",
      labels: {},
      image: "img:1",
      runtime: { name: "io.containerd.runc.v2" },
      spec: { typeUrl: "spec", value: new Uint8Array([5, 6]) },
      snapshotter: "overlayfs",
      snapshotKey: "c1",
      extensions: {},
      sandbox: "",
    });
    await store.leases.create(ctx, { id: "l1", labels: { "containerd.io/gc.expire": "2030-01-01T00:00:00Z" } });
    await store.leases.addResource(ctx, "l1", { type: "snapshots/overlayfs", id: "c1" });
    const blob = await writeBlob(store.content, ctx, "r", "persisted", { x: "y" });
    const half = await store.content.writer(ctx, { ref: "half" });
    await half.write(Buffer.from("par"));
    await half.close();

    store = await fx.reopen();
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    expect(await store.namespaces.get("default")).toEqual({ name: "default", labels: { env: "test" } });
    expect(await store.images.get(ctx, "img:1")).toEqual(img);
    expect(await store.containers.get(ctx, "c1")).toEqual(ctr);
    expect((await store.leases.list(ctx, [])).map((l) => l.labels)).toEqual([{ "containerd.io/gc.expire": "2030-01-01T00:00:00Z" }]);
    expect(await store.leases.listResources(ctx, "l1")).toEqual([{ type: "snapshots/overlayfs", id: "c1" }]);
    expect(await store.content.info(ctx, blob.digest)).toEqual(blob);
    expect(await readAll(store.content, ctx, blob.digest)).toBe("persisted");
    expect(await collect(store.content.walk(ctx, []))).toEqual([blob]);
    expect(await store.content.status(ctx, "half")).toMatchObject({ ref: "half", offset: 3 });

    // The ingest resumes, and a new ref continues the backend sequence instead of reusing it.
    const resumed = await store.content.writer(ctx, { ref: "half" });
    expect((await resumed.status()).offset).toBe(3);
    await resumed.close();
    await (await store.content.writer(ctx, { ref: "next" })).close();
    expect([...fx.backend.ingests.keys()].sort()).toEqual(["default/2/half", "default/3/next"]);
  });

  it("stores the schema version and refuses a newer one", async () => {
    const fx = await setup();
    expect(fx.store.schemaVersion).toBe(1);
    await fx.store.close();
    const db = MetaDb.open(fx.path);
    expect(db.get(SCHEMA_VERSION_KEY)).toBe(1);
    db.update((tx) => tx.put(SCHEMA_VERSION_KEY, 99));
    await db.close();
    await expectError(openMetadataStore(fx.path, fx.backend), "FailedPrecondition");
  });

  it("migrates a version 0 database to version 1 once", async () => {
    const path = join(await tempDir(), "meta.lmdb");
    // A database from before versioning: objects under a namespace with no namespace record.
    const legacy = MetaDb.open(path);
    legacy.update((tx) => {
      tx.put(["ns", "legacy", "images", "old:1"], {
        labels: [["k", "v"]],
        target,
        createdAt: new Date(0),
        updatedAt: new Date(0),
      });
      tx.put(["ns", "legacy", "leases", "l"], { labels: [], createdAt: new Date(0) });
    });
    await legacy.close();

    const backend = createMemoryContentStore();
    const { migrations, runs } = counted();
    let store = await openMetadataStore(path, backend, { migrations });
    expect(runs).toEqual([1]);
    expect(store.schemaVersion).toBe(1);
    expect(await store.namespaces.list()).toEqual([{ name: "legacy", labels: {} }]);
    expect((await store.images.get(ns("legacy"), "old:1")).labels).toEqual({ k: "v" });
    await expectError(store.namespaces.delete("legacy"), "FailedPrecondition");
    await store.close();

    store = await openMetadataStore(path, backend, { migrations });
    expect(runs).toEqual([1]); // not again
    await store.close();
  });

  it("leaves the database at its old version when a migration fails", async () => {
    const path = join(await tempDir(), "meta.lmdb");
    const backend = createMemoryContentStore();
    const failing: Migration = {
      version: 1,
      description: "fails halfway",
      migrate(tx) {
        tx.put(["half-done"], true);
        throw new Error("migration broke");
      },
    };
    await expect(openMetadataStore(path, backend, { migrations: [failing] })).rejects.toThrow("migration broke");
    const db = MetaDb.open(path);
    expect(db.get(SCHEMA_VERSION_KEY)).toBeUndefined();
    expect(db.get(["half-done"])).toBeUndefined();
    await db.close();

    // Fixed, it runs on the next open.
    const store = await openMetadataStore(path, backend);
    expect(store.schemaVersion).toBe(1);
    await store.close();
  });

  it("runs only the migrations past the stored version, in order", async () => {
    const path = join(await tempDir(), "meta.lmdb");
    const backend = createMemoryContentStore();
    const runs: number[] = [];
    const step = (version: number): Migration => ({
      version,
      description: `step ${version}`,
      migrate: () => void runs.push(version),
    });
    await (await openMetadataStore(path, backend, { migrations: [step(1)] })).close();
    const store = await openMetadataStore(path, backend, { migrations: [step(1), step(2), step(3)] });
    expect(runs).toEqual([1, 2, 3]);
    expect(store.schemaVersion).toBe(3);
    await store.close();
    await expectError(openMetadataStore(path, backend, { migrations: [step(2)] }), "Internal");
  });
});
