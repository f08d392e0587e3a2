// Garbage collection scenarios over the real local content store and overlayfs snapshotter:
// what each kind of root keeps, what goes, and collections interrupted halfway.
import { describe, expect, it } from "vitest";
import type { CollectionStats, OpContext, Snapshotter } from "@berth/core";
import type { LmdbMetadataStore } from "../src/index.js";
import { SNAPSHOTTER, expectSnapshotDirsMatch, gcWorld } from "./gc-world.js";
import { collect, ns, sha256, writeBlob } from "./helpers.js";

const A = ns("alpha");
const B = ns("beta");
const HOUR = 3_600_000;
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const spec = { typeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Spec", value: new Uint8Array([123, 125]) };

const snapshots = (store: LmdbMetadataStore): Snapshotter => store.snapshotters.get(SNAPSHOTTER)!;

/** Committed snapshots `names[0]` ← `names[1]` ← …, each the parent of the next. */
async function commitChain(store: LmdbMetadataStore, ctx: OpContext, names: readonly string[], parent = ""): Promise<void> {
  for (const name of names) {
    await snapshots(store).prepare(ctx, `${name}-active`, parent);
    await snapshots(store).commit(ctx, name, `${name}-active`);
    parent = name;
  }
}

/**
 * An image as a pull leaves it: layers, a config whose label references the top snapshot of
 * the unpacked chain, and a manifest whose labels reference both. Returns the digests.
 */
async function pulledImage(store: LmdbMetadataStore, ctx: OpContext, tag: string) {
  const layers = [];
  for (let i = 0; i < 3; i++) layers.push((await writeBlob(store.content, ctx, `${tag}-l${i}`, `${tag} layer ${i}`)).digest);
  const chain = [0, 1, 2].map((i) => `${tag}-chain-${i}`);
  await commitChain(store, ctx, chain);
  const config = await writeBlob(store.content, ctx, `${tag}-config`, `${tag} config`, {
    [`containerd.io/gc.ref.snapshot.${SNAPSHOTTER}`]: chain[2]!,
  });
  const manifest = await writeBlob(store.content, ctx, `${tag}-manifest`, `${tag} manifest`, {
    "containerd.io/gc.ref.content.config": config.digest,
    ...Object.fromEntries(layers.map((d, i) => [`containerd.io/gc.ref.content.l.${i}`, d])),
  });
  return { manifest: manifest.digest, config: config.digest, layers, chain, size: manifest.size };
}

const digests = async (store: LmdbMetadataStore, ctx: OpContext) => (await collect(store.content.walk(ctx, []))).map((i) => i.digest).sort();
const snapshotNames = async (store: LmdbMetadataStore, ctx: OpContext) =>
  (await collect(snapshots(store).walk(ctx, []))).map((i) => i.name).sort();

const nothingRemoved = (stats: CollectionStats) => {
  expect(stats.records).toEqual({ images: 0, leases: 0, content: 0, ingests: 0, snapshots: 0 });
  expect(stats.backend).toEqual({ blobs: 0, ingests: 0, snapshots: 0 });
};

describe("garbage collection over content-local and overlayfs", () => {
  it("a lease keeps the manifest and everything it references, until the lease goes", async () => {
    const world = await gcWorld();
    const { store } = world;
    await store.leases.create(A, { id: "pull", labels: {} });
    const img = await pulledImage(store, ns("alpha", "pull"), "app");
    // Only the manifest and the top snapshot are in the lease; the rest hangs off their labels and parents.
    await store.leases.deleteResource(A, "pull", { type: "content", id: img.config });
    for (const d of img.layers) await store.leases.deleteResource(A, "pull", { type: "content", id: d });
    for (const s of img.chain.slice(0, 2)) await store.leases.deleteResource(A, "pull", { type: `snapshots/${SNAPSHOTTER}`, id: s });

    nothingRemoved(await store.collector.collect());
    expect(await digests(store, A)).toEqual([img.manifest, img.config, ...img.layers].sort());
    expect(await snapshotNames(store, A)).toEqual([...img.chain].sort());
    expect(await world.blobsOnDisk()).toHaveLength(5);

    await store.leases.delete(A, "pull");
    const stats = await store.collector.collect();
    expect(stats.records).toEqual({ images: 0, leases: 0, content: 5, ingests: 0, snapshots: 3 });
    expect(stats.backend).toEqual({ blobs: 5, ingests: 0, snapshots: 3 });
    expect(await digests(store, A)).toEqual([]);
    expect(await world.blobsOnDisk()).toEqual([]);
    expect(await world.backendSnapshots()).toEqual([]);
    await expectSnapshotDirsMatch(world);
  });

  it("an image keeps its manifest, config, layers and unpacked chain; deleting it frees them all", async () => {
    const world = await gcWorld();
    const { store } = world;
    await store.leases.create(A, { id: "pull", labels: {} });
    const img = await pulledImage(store, ns("alpha", "pull"), "app");
    await store.images.create(ns("alpha", "pull"), { name: "app:1", labels: {}, target: { mediaType: MANIFEST, digest: img.manifest, size: img.size } });
    await store.leases.delete(A, "pull");

    expect((await store.collector.collect()).records.leases).toBe(0);
    expect(await world.blobsOnDisk()).toHaveLength(5);
    expect(await world.backendSnapshots()).toHaveLength(3);

    await store.images.delete(A, "app:1");
    const stats = await store.collector.collect();
    expect(stats.records.content + stats.records.snapshots).toBe(8);
    expect(await world.blobsOnDisk()).toEqual([]);
    expect(await world.backendSnapshots()).toEqual([]);
  });

  it("a container keeps its snapshot chain; removing the container frees it", async () => {
    const world = await gcWorld();
    const { store } = world;
    await commitChain(store, A, ["base", "mid"]);
    await snapshots(store).prepare(A, "ctr-rw", "mid");
    await commitChain(store, A, ["stray"]);
    await store.containers.create(A, { id: "c1", labels: {}, image: "", runtime: { name: "io.containerd.runc.v2" }, spec, snapshotter: SNAPSHOTTER, snapshotKey: "ctr-rw", extensions: {}, sandbox: "" });

    const stats = await store.collector.collect();
    expect(stats.records.snapshots).toBe(1);
    expect(await snapshotNames(store, A)).toEqual(["base", "ctr-rw", "mid"]);
    expect(await world.backendSnapshots()).toHaveLength(3);

    await store.containers.delete(A, "c1");
    expect((await store.collector.collect()).records.snapshots).toBe(3);
    expect(await world.backendSnapshots()).toEqual([]);
    await expectSnapshotDirsMatch(world);
  });

  it("an expired lease goes with what only it held; a lease not yet expired stays", async () => {
    const world = await gcWorld();
    const { store } = world;
    const past = new Date(Date.now() - HOUR).toISOString();
    const future = new Date(Date.now() + HOUR).toISOString();
    await store.leases.create(A, { id: "old", labels: { "containerd.io/gc.expire": past } });
    await store.leases.create(A, { id: "young", labels: { "containerd.io/gc.expire": future } });
    const gone = await writeBlob(store.content, ns("alpha", "old"), "a", "held by the expired lease");
    const kept = await writeBlob(store.content, ns("alpha", "young"), "b", "held by the live lease");

    const stats = await store.collector.collect();
    expect(stats.records).toEqual({ images: 0, leases: 1, content: 1, ingests: 0, snapshots: 0 });
    expect((await store.leases.list(A, [])).map((l) => l.id)).toEqual(["young"]);
    expect(await digests(store, A)).toEqual([kept.digest]);
    expect(await world.blobsOnDisk()).toEqual([kept.digest]);
    expect(gone.digest).not.toBe(kept.digest);
  });

  it("an expired image stays only while something references it", async () => {
    const world = await gcWorld();
    const { store } = world;
    const blob = await writeBlob(store.content, A, "m", "an expiring image's manifest");
    const expire = { "containerd.io/gc.expire": new Date(Date.now() - HOUR).toISOString() };
    await store.leases.create(A, { id: "hold", labels: {} });
    await store.images.create(ns("alpha", "hold"), { name: "tmp:1", labels: expire, target: { mediaType: MANIFEST, digest: blob.digest, size: blob.size } });
    nothingRemoved(await store.collector.collect());

    await store.leases.delete(A, "hold");
    const stats = await store.collector.collect();
    expect(stats.records).toEqual({ images: 1, leases: 0, content: 1, ingests: 0, snapshots: 0 });
    expect(await store.images.list(A, [])).toEqual([]);
  });

  it("gc.root, and gc.expire while in the future, keep content and snapshots nobody references", async () => {
    const world = await gcWorld();
    const { store } = world;
    const soon = new Date(Date.now() + HOUR).toISOString();
    const rooted = await writeBlob(store.content, A, "r", "rooted", { "containerd.io/gc.root": "true" });
    const expiring = await writeBlob(store.content, A, "e", "expiring", { "containerd.io/gc.expire": soon });
    await writeBlob(store.content, A, "x", "unreferenced");
    await snapshots(store).prepare(A, "kept", "", { labels: { "containerd.io/gc.root": "" + Date.now() } });
    await snapshots(store).prepare(A, "dropped", "");

    const stats = await store.collector.collect();
    expect(stats.records).toEqual({ images: 0, leases: 0, content: 1, ingests: 0, snapshots: 1 });
    expect(await digests(store, A)).toEqual([rooted.digest, expiring.digest].sort());
    expect(await snapshotNames(store, A)).toEqual(["kept"]);

    // Two hours on, the expiring one goes.
    await world.restart({ clock: () => Date.now() + 2 * HOUR });
    expect((await world.store.collector.collect()).records.content).toBe(1);
    expect(await digests(world.store, A)).toEqual([rooted.digest]);
  });

  it("a flat lease keeps its resources but not what their labels reference", async () => {
    const world = await gcWorld();
    const { store } = world;
    await store.leases.create(A, { id: "flat", labels: { "containerd.io/gc.flat": "" + 1 } });
    const child = await writeBlob(store.content, A, "c", "referenced by label");
    await commitChain(store, A, ["p", "q"]);
    const parentBlob = await writeBlob(store.content, ns("alpha", "flat"), "p", "the leased one", {
      "containerd.io/gc.ref.content": child.digest,
    });
    await store.leases.addResource(A, "flat", { type: `snapshots/${SNAPSHOTTER}`, id: "q" });

    const stats = await store.collector.collect();
    expect(stats.records.content).toBe(1);
    expect(await digests(store, A)).toEqual([parentBlob.digest]);
    // A snapshot's parent is no label: a flat lease still keeps the chain it needs.
    expect(await snapshotNames(store, A)).toEqual(["p", "q"]);
  });

  it("a blob another namespace still owns stays on disk when one namespace lets it go", async () => {
    const world = await gcWorld();
    const { store } = world;
    const text = "shared between namespaces";
    await writeBlob(store.content, A, "s", text, { "containerd.io/gc.root": "1" });
    await writeBlob(store.content, B, "s", text);
    expect((await store.collector.collect()).records.content).toBe(1); // beta's copy was unreferenced
    expect(await world.blobsOnDisk()).toEqual([sha256(text)]);
    await store.content.update(A, { digest: sha256(text), labels: {} }, ["labels"]);
    expect((await store.collector.collect()).backend.blobs).toBe(1);
    expect(await world.blobsOnDisk()).toEqual([]);
  });

  it("expired ingests go, metadata and backend; leased ones stay", async () => {
    const world = await gcWorld();
    const { store } = world;
    await store.leases.create(A, { id: "dl", labels: {} });
    for (const [ctx, ref] of [[A, "loose"], [ns("alpha", "dl"), "leased"]] as const) {
      const w = await store.content.writer(ctx, { ref, total: 100 });
      await w.write(Buffer.from("partial"));
      await w.close();
    }
    nothingRemoved(await store.collector.collect()); // the loose one has 24 hours

    await world.restart({ clock: () => Date.now() + 25 * HOUR });
    const stats = await world.store.collector.collect();
    expect(stats.records.ingests).toBe(1);
    expect(stats.backend.ingests).toBe(1);
    expect((await world.store.content.listStatuses(A, [])).map((s) => s.ref)).toEqual(["leased"]);
    expect(await world.content.listStatuses(A, [])).toHaveLength(1);
  });

  it("a shared ingest keeps the blob its namespace is about to own", async () => {
    const world = await gcWorld();
    const { store } = world;
    const text = "being shared";
    await writeBlob(store.content, A, "s", text);
    await store.leases.create(B, { id: "dl", labels: {} });
    const w = await store.content.writer(ns("beta", "dl"), { ref: "s", total: text.length, expected: sha256(text) });
    expect((await w.status()).offset).toBe(text.length);

    const stats = await store.collector.collect();
    expect(stats.records.content).toBe(1); // alpha's ownership went
    expect(stats.backend.blobs).toBe(0); // but beta's ingest keeps the bytes
    expect((await w.commit(text.length, sha256(text))).digest).toBe(sha256(text));
    expect(await world.blobsOnDisk()).toEqual([sha256(text)]);
  });

  it("a backend that fails halfway through its sweep leaves work the next collection finishes", async () => {
    const world = await gcWorld();
    const { store } = world;
    const kept = await writeBlob(store.content, A, "k", "kept", { "containerd.io/gc.root": "1" });
    for (let i = 0; i < 20; i++) await writeBlob(store.content, A, `g${i}`, `garbage ${i}`);
    await commitChain(store, A, ["g0", "g1", "g2", "g3", "g4", "g5"]);

    world.faults.arm(8);
    const first = await store.collector.collect();
    expect(first.records.content).toBe(20);
    expect(first.records.snapshots).toBe(6);
    expect(first.backend.blobs + first.backend.snapshots).toBe(8);
    expect((await world.blobsOnDisk()).length + (await world.backendSnapshots()).length).toBe(1 + 26 - 8);
    expect(await digests(store, A)).toEqual([kept.digest]); // metadata was swept in one transaction

    world.faults.disarm();
    const second = await store.collector.collect();
    nothingRemovedFromMetadata(second);
    expect(second.backend.blobs + second.backend.snapshots).toBe(26 - 8);
    expect(await world.blobsOnDisk()).toEqual([kept.digest]);
    expect(await world.backendSnapshots()).toEqual([]);
    await expectSnapshotDirsMatch(world);
  });

  it("a restart after a sweep that died halfway finishes it", async () => {
    const world = await gcWorld();
    const { store } = world;
    for (let i = 0; i < 10; i++) await writeBlob(store.content, A, `g${i}`, `garbage ${i}`);
    await commitChain(store, A, ["a", "b", "c"]);
    world.faults.arm(4);
    await store.collector.collect();
    world.faults.disarm();

    // A new process knows nothing of what the last one left: its first collection sweeps every backend.
    const restarted = await world.restart();
    const stats = await restarted.collector.collect();
    expect(stats.backend.blobs + stats.backend.snapshots).toBe(13 - 4);
    expect(await world.blobsOnDisk()).toEqual([]);
    expect(await world.backendSnapshots()).toEqual([]);
  });

  it("looks only at what deletions touched; the whole store only after a start", async () => {
    const world = await gcWorld();
    const { store } = world;
    await writeBlob(store.content, A, "g", "garbage");
    expect((await store.collector.collect()).backend.blobs).toBe(1);
    // Bytes put straight into the backend are no deletion's doing: no collection looks for them…
    await writeBlob(world.content, A, "orphan", "orphan bytes");
    nothingRemoved(await store.collector.collect());
    await store.content.delete(A, (await writeBlob(store.content, A, "h", "more garbage")).digest);
    expect((await store.collector.collect()).backend.blobs).toBe(1);
    expect(await world.blobsOnDisk()).toEqual([sha256("orphan bytes")]);
    // …until a start, when anything may have been left behind.
    expect((await (await world.restart()).collector.collect()).backend.blobs).toBe(1);
    expect(await world.blobsOnDisk()).toEqual([]);
  });

  it("tells mutation listeners of every commit and whether something was deleted since the last collection", async () => {
    const world = await gcWorld();
    const { store } = world;
    const seen: boolean[] = [];
    const stop = store.collector.onMutation((dirty) => seen.push(dirty));
    await store.leases.create(A, { id: "l", labels: {} });
    await store.leases.delete(A, "l");
    await store.leases.create(A, { id: "m", labels: {} });
    await store.collector.collect();
    await store.leases.create(A, { id: "n", labels: {} });
    stop();
    await store.leases.create(A, { id: "o", labels: {} });
    expect(seen).toEqual([false, true, true, false]);
  });
});

function nothingRemovedFromMetadata(stats: CollectionStats): void {
  expect(stats.records).toEqual({ images: 0, leases: 0, content: 0, ingests: 0, snapshots: 0 });
}
