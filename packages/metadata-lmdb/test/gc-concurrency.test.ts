// Collection racing with writers: the write barrier (objects written while a collection marks
// are marked too) and the content gate (a blob being deleted is never claimed halfway).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { classOf } from "@berth/core";
import { MetaDb } from "../src/db.js";
import { Marker, Pacer } from "../src/gc-mark.js";
import { sweepRecords } from "../src/gc-sweep.js";
import { blobKey, imageKey, leaseKey, leaseResourceKey, namespaceKey, snapshotKey } from "../src/keys.js";
import type { BlobRecord, ImageRecord, LeaseRecord, SnapshotRecord } from "../src/records.js";
import { SNAPSHOTTER, gcWorld } from "./gc-world.js";
import { afterThisTest, collect, ns, readAll, sha256, sleep, tempDir, writeBlob } from "./helpers.js";

const A = ns("alpha");
const B = ns("beta");
const at = new Date(0);
const blob: BlobRecord = { size: 1, labels: [], createdAt: at, updatedAt: at };
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const image = (target: string): ImageRecord => ({ labels: [], target: { mediaType: "m", digest: target, size: 1 }, createdAt: at, updatedAt: at });
const snapshot = (parent: string): SnapshotRecord => ({ backendKey: `alpha/1/${parent}x`, parent, kind: "committed", labels: [], createdAt: at, updatedAt: at });
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A database where blobs a, b, c and snapshot "p" exist unreferenced, and lease "l" holds nothing. */
async function unreferencedWorld(): Promise<MetaDb> {
  const db = MetaDb.open(join(await tempDir(), "meta.lmdb"));
  afterThisTest(() => db.close());
  db.update((tx) => {
    tx.put(namespaceKey("alpha"), { labels: [] });
    for (const c of "abc") tx.put(blobKey("alpha", digest(c)), blob);
    tx.put(snapshotKey("alpha", SNAPSHOTTER, "p"), snapshot(""));
    tx.put(leaseKey("alpha", "l"), { labels: [], createdAt: at } satisfies LeaseRecord);
  });
  return db;
}

/** After the snapshot was taken: an image now targets a, the lease holds b, a new labelled-root snapshot's parent is p. */
function referenceAfterSnapshot(db: MetaDb): void {
  db.update((tx) => tx.put(imageKey("alpha", "new"), image(digest("a"))));
  db.update((tx) => tx.put(leaseResourceKey("alpha", "l", "content", digest("b")), true));
  db.update((tx) =>
    tx.put(snapshotKey("alpha", SNAPSHOTTER, "child"), { ...snapshot("p"), labels: [["containerd.io/gc.root", "1"]] } satisfies SnapshotRecord),
  );
}

describe("the write barrier", () => {
  it("marks what was written while the snapshot was marked: only c, unreferenced throughout, goes", async () => {
    const db = await unreferencedWorld();
    const written = db.mutations.recordWrites();
    const snap = db.snapshot();
    referenceAfterSnapshot(db);
    const marker = new Marker(Date.now());
    await marker.markSnapshot(snap, new Pacer(undefined));
    snap.done();
    written.close();
    const swept = db.update((tx) => {
      marker.remark(tx, written.keys);
      return sweepRecords(tx, marker.candidates, marker.black);
    });
    expect(swept.counts).toEqual({ images: 0, leases: 0, content: 1, ingests: 0, snapshots: 0 });
    expect(db.has(blobKey("alpha", digest("c")))).toBe(false);
    for (const c of "ab") expect(db.has(blobKey("alpha", digest(c)))).toBe(true);
    expect(db.has(snapshotKey("alpha", SNAPSHOTTER, "p"))).toBe(true);
  });

  it("without it, the snapshot alone would have swept the newly referenced objects (the case above is not vacuous)", async () => {
    const db = await unreferencedWorld();
    const snap = db.snapshot();
    referenceAfterSnapshot(db);
    const marker = new Marker(Date.now());
    await marker.markSnapshot(snap, new Pacer(undefined));
    snap.done();
    const swept = db.update((tx) => sweepRecords(tx, marker.candidates, marker.black));
    expect(swept.counts.content).toBe(3);
    expect(swept.counts.snapshots).toBe(1);
  });

  it("keeps blobs a pull takes back into its lease while a long collection marks", async () => {
    const world = await gcWorld();
    const { store } = world;
    // Enough records that marking takes many slices, so the pulls below land in the middle of it.
    for (let i = 0; i < 3000; i++) await store.leases.create(A, { id: `l${i}`, labels: {} });
    const texts = Array.from({ length: 20 }, (_, i) => `layer ${i}`);
    // Blobs an image deleted a moment ago left unreferenced in the namespace.
    for (const [i, text] of texts.entries()) await writeBlob(store.content, A, `b${i}`, text);
    await writeBlob(store.content, A, "garbage", "really unreferenced");
    await store.leases.create(A, { id: "pull", labels: {} });
    const pull = ns("alpha", "pull");

    const collection = store.collector.collect();
    let settled = false;
    void collection.finally(() => (settled = true));
    let during = 0;
    for (const [i, text] of texts.entries()) {
      await nextTurn();
      if (!settled) during++;
      // As a client pulls: the blob is already here (AlreadyExists, and the lease takes it), or uploaded again.
      try {
        await writeBlob(store.content, pull, `pull-${i}`, text);
      } catch (err) {
        if (classOf(err) !== "AlreadyExists") throw err;
      }
    }
    await collection;
    expect(during, "the collection finished before the pulls began: the test proves nothing").toBeGreaterThan(1);
    expect((await store.collector.collect()).records.content).toBe(0);
    for (const text of texts) expect(await readAll(store.content, A, sha256(text))).toBe(text);
    expect(await world.blobsOnDisk()).toHaveLength(20);
  }, 120_000);
});

describe("the content gate", () => {
  it("a namespace sharing or committing blobs while the collector deletes them ends up owning readable blobs", async () => {
    const world = await gcWorld();
    const { store } = world;
    const N = 48;
    // Each deletion takes a while, so writers meet blobs the collector has decided to delete but not yet deleted.
    world.faults.delayMs = 20;
    for (let round = 0; round < 3; round++) {
      const texts = Array.from({ length: N }, (_, i) => `contested ${round} ${i}`);
      for (const [i, text] of texts.entries()) {
        await writeBlob(store.content, A, `a${round}-${i}`, text);
        await store.content.delete(A, sha256(text));
      }
      // Writers start spread over the collection's run, so some meet its deletions head on.
      const collection = store.collector.collect();
      await Promise.all(
        texts.map(async (text, i) => {
          await sleep(i * (round + 2));
          await writeBlob(store.content, B, `b${round}-${i}`, text, { "containerd.io/gc.root": "1" });
        }),
      );
      await collection;
      for (const text of texts) expect(await readAll(store.content, B, sha256(text)), `round ${round}`).toBe(text);
      // A later collection keeps them all: beta owns them, as roots, and the bytes are there.
      await store.collector.collect();
      for (const text of texts) expect(await readAll(store.content, B, sha256(text))).toBe(text);
    }
    expect(await world.blobsOnDisk()).toHaveLength(3 * N);
  }, 120_000);
});
