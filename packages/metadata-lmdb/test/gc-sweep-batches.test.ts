// The sweep runs in bounded write transactions with writers in between: each batch first
// marks what was written since the last, removals go referrers first and snapshot children
// before parents, and a process killed between two batches leaves a store the next
// collection finishes.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it, vi } from "vitest";
import { MetaDb } from "../src/db.js";
import { node, nodeId, type GcNode } from "../src/gc-graph.js";
import { sweepOrder } from "../src/gc-sweep.js";
import { blobKey, leaseKey, leaseResourceKey, namespaceKey, snapshotChildKey, snapshotKey } from "../src/keys.js";
import type { BlobRecord, LeaseRecord, SnapshotRecord } from "../src/records.js";
import { openMetadataStore, type LmdbMetadataStore } from "../src/index.js";
import { afterThisTest, collect, ns, tempDir } from "./helpers.js";
import { createMemoryContentStore } from "./memory-content-store.js";
import { createMemorySnapshotter } from "./memory-snapshotter.js";

const A = ns("alpha");
const SNAPSHOTTER = "mem";
const at = new Date(0);
const digest = (i: number) => `sha256:${i.toString(16).padStart(64, "0")}`;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const CRASH_CHILD = join(import.meta.dirname, "fixtures", "gc-sweep-crash.mjs");

/** More records than one sweep transaction takes (gc-collector.ts: at most 1024 removals each). */
const MANY = 3000;

/** A store whose environment was filled in one transaction by `fill` (thousands of records in a moment). */
async function storeWith(fill: (db: MetaDb) => void): Promise<LmdbMetadataStore> {
  const path = join(await tempDir(), "meta.lmdb");
  const db = MetaDb.open(path);
  fill(db);
  await db.close();
  const store = await openMetadataStore(path, createMemoryContentStore(), { snapshotters: new Map([[SNAPSHOTTER, createMemorySnapshotter()]]) });
  afterThisTest(() => store.close());
  return store;
}

/** Runs a collection, calling `between` once per event-loop turn until it settles. */
async function collectWatching(store: LmdbMetadataStore, between: () => Promise<void>) {
  let settled = false;
  const collection = store.collector.collect().finally(() => (settled = true));
  while (!settled) {
    await nextTurn();
    if (!settled) await between();
  }
  return collection;
}

const present = (store: LmdbMetadataStore, i: number) => store.content.info(A, digest(i)).then(() => true, () => false);
const snapshotNames = async (store: LmdbMetadataStore) =>
  (await collect(store.snapshotters.get(SNAPSHOTTER)!.walk(A, []))).map((i) => i.name).sort();

describe("the sweep order", () => {
  it("puts referrers before what they reference, and snapshot children before their parents", () => {
    const snap = (key: string) => node("snapshot", "alpha", key, SNAPSHOTTER);
    const parents = new Map([
      [nodeId(snap("c")), "b"],
      [nodeId(snap("b")), "a"],
      [nodeId(snap("a")), ""],
      [nodeId(snap("x")), "kept"], // its parent is no candidate (reachable)
      [nodeId(snap("d")), "c"],
    ]);
    const candidates: GcNode[] = [
      node("content", "alpha", digest(1)),
      snap("a"),
      snap("x"),
      node("image", "alpha", "img"),
      snap("c"),
      node("ingest", "alpha", "ref"),
      snap("d"),
      snap("b"),
      node("lease", "alpha", "l"),
    ];
    const order = sweepOrder(candidates, parents).map((n) => `${n.kind}:${n.key}`);
    expect(order.slice(0, 3)).toEqual(["lease:l", "image:img", "ingest:ref"]);
    expect(order.at(-1)).toBe(`content:${digest(1)}`);
    const snapshots = order.filter((o) => o.startsWith("snapshot:"));
    for (const [child, parent] of [["d", "c"], ["c", "b"], ["b", "a"]]) {
      expect(snapshots.indexOf(`snapshot:${child}`)).toBeLessThan(snapshots.indexOf(`snapshot:${parent}`));
    }
    expect(snapshots).toHaveLength(5);
  });
});

describe("a sweep in batches", () => {
  it("keeps a blob a writer takes back between two sweep transactions; the rest goes", async () => {
    const store = await storeWith((db) =>
      db.update((tx) => {
        tx.put(namespaceKey("alpha"), { labels: [] });
        tx.put(leaseKey("alpha", "keep"), { labels: [], createdAt: at } satisfies LeaseRecord);
        for (let i = 0; i < MANY; i++) tx.put(blobKey("alpha", digest(i)), { size: 1, labels: [], createdAt: at, updatedAt: at } satisfies BlobRecord);
      }),
    );
    let tookBack = false;
    const stats = await collectWatching(store, async () => {
      // The first blob gone and the last still there: between two sweep transactions.
      if (!tookBack && !(await present(store, 0)) && (await present(store, MANY - 1))) {
        await store.leases.addResource(A, "keep", { type: "content", id: digest(MANY - 1) });
        tookBack = true;
      }
    });
    expect(tookBack, "never saw the sweep part done: it ran in one transaction").toBe(true);
    expect(stats.records.content).toBe(MANY - 1);
    expect(await present(store, MANY - 1)).toBe(true);
    expect((await store.collector.collect()).records.content).toBe(0);
    expect(await collect(store.content.walk(A, []))).toHaveLength(1);
  });

  it("keeps the whole chain of a snapshot a writer takes back between two sweep transactions", async () => {
    // s0 ← s1 ← … ← s(MANY-1), none referenced: removed deepest first, MANY-1 in the first batch.
    const name = (i: number) => `s${String(i).padStart(5, "0")}`;
    const store = await storeWith((db) =>
      db.update((tx) => {
        tx.put(namespaceKey("alpha"), { labels: [] });
        tx.put(leaseKey("alpha", "keep"), { labels: [], createdAt: at } satisfies LeaseRecord);
        for (let i = 0; i < MANY; i++) {
          const parent = i === 0 ? "" : name(i - 1);
          const record: SnapshotRecord = { backendKey: `alpha/${i}/x`, parent, kind: "committed", labels: [], createdAt: at, updatedAt: at };
          tx.put(snapshotKey("alpha", SNAPSHOTTER, name(i)), record);
          if (parent !== "") tx.put(snapshotChildKey("alpha", SNAPSHOTTER, parent, name(i)), true);
        }
      }),
    );
    const snapshots = store.snapshotters.get(SNAPSHOTTER)!;
    const exists = (i: number) => snapshots.stat(A, name(i)).then(() => true, () => false);
    const KEEP = 10;
    let tookBack = false;
    const stats = await collectWatching(store, async () => {
      if (!tookBack && !(await exists(MANY - 1)) && (await exists(KEEP))) {
        await store.leases.addResource(A, "keep", { type: `snapshots/${SNAPSHOTTER}`, id: name(KEEP) });
        tookBack = true;
      }
    });
    expect(tookBack, "never saw the sweep part done: it ran in one transaction").toBe(true);
    expect(stats.records.snapshots).toBe(MANY - KEEP - 1);
    expect(await snapshotNames(store)).toEqual(Array.from({ length: KEEP + 1 }, (_, i) => name(i)));
    // The kept chain is whole: every link names a parent that is there.
    for (let i = 1; i <= KEEP; i++) expect((await snapshots.stat(A, name(i))).parent).toBe(name(i - 1));
    expect((await store.collector.collect()).records.snapshots).toBe(0);
  });

  it("a process killed between two sweep transactions leaves a store the next collection finishes", async () => {
    const path = join(await tempDir(), "meta.lmdb");
    const child = spawn(process.execPath, [CRASH_CHILD, path, String(MANY)], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    const lines: string[] = [];
    for await (const line of createInterface({ input: child.stdout })) lines.push(line);
    expect(lines.join("\n"), "the child's sweep showed no partial state").toMatch(/^partial \d+$/);
    expect(await exited).toBe("SIGKILL");
    const left = Number(lines[0]!.split(" ")[1]);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(MANY);

    const store = await openMetadataStore(path, createMemoryContentStore());
    afterThisTest(() => store.close());
    const crash = ns("crash");
    expect(await collect(store.content.walk(crash, []))).toHaveLength(left);
    expect((await store.collector.collect()).records.content).toBe(left);
    expect(await collect(store.content.walk(crash, []))).toEqual([]);
  });

  it("a lease holding thousands of resources is deleted in bounded transactions; one created again under its name starts empty", async () => {
    const store = await storeWith((db) =>
      db.update((tx) => {
        tx.put(namespaceKey("alpha"), { labels: [] });
        tx.put(leaseKey("alpha", "big"), { labels: [], createdAt: at } satisfies LeaseRecord);
        for (let i = 0; i < MANY; i++) tx.put(leaseResourceKey("alpha", "big", "content", digest(i)), true);
      }),
    );
    let settled = false;
    const deleted = store.leases.delete(A, "big").finally(() => (settled = true));
    await nextTurn();
    expect(settled, "the delete removed every resource in one go").toBe(false);
    // The lease goes with the first commit (lmdb's write thread commits it, so a turn or a few
    // later); its name can be taken again while the old entries are still going.
    await vi.waitFor(() => expect(store.leases.listResources(A, "big")).rejects.toThrow(/not found/));
    await store.leases.create(A, { id: "big", labels: {} });
    await store.leases.addResource(A, "big", { type: "content", id: digest(0) });
    await deleted;
    expect(await store.leases.listResources(A, "big")).toEqual([{ type: "content", id: digest(0) }]);
    await store.leases.delete(A, "big");
    await store.leases.create(A, { id: "big", labels: {} });
    expect(await store.leases.listResources(A, "big")).toEqual([]);
  });
});
