// The scheduler over a real metadata store: what triggers a collection, what a synchronous
// request waits for, and how it stops. No assertion is about time: tests wait for the event.
import { describe, expect, it } from "vitest";
import { classOf, type OpContext } from "@berth/core";
import { clampConfig, createGcScheduler, DEFAULT_SCHEDULER_CONFIG, type GcSchedulerHandle, type SchedulerConfig } from "../src/index.js";
import { afterThisTest, storeWorld, writeBlob, type StoreWorld } from "./world.js";

const A: OpContext = { namespace: "alpha" };
const leased = (lease: string): OpContext => ({ namespace: "alpha", lease });
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** No background collections unless the test's events ask for one. */
const QUIET: SchedulerConfig = { ...DEFAULT_SCHEDULER_CONFIG, startupDelay: 0, scheduleDelay: 0 };

function scheduler(world: StoreWorld, config: SchedulerConfig = QUIET): GcSchedulerHandle {
  const s = createGcScheduler(world.watched, config);
  afterThisTest(() => s.close());
  return s;
}

/** A blob held only by lease `id`. */
async function leasedBlob(world: StoreWorld, id: string) {
  await world.store.leases.create(A, { id, labels: {} });
  return writeBlob(world.store.content, leased(id), id, `blob of ${id}`);
}

async function errorClassOf(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (err) {
    return classOf(err);
  }
  throw new Error("expected a rejection");
}

describe("io.containerd.gc.v1.scheduler", () => {
  it("collect() runs a collection and resolves with what it removed", async () => {
    const world = await storeWorld();
    const gc = scheduler(world);
    await leasedBlob(world, "l1");
    await world.store.leases.delete(A, "l1");
    const stats = await gc.collect();
    expect(stats.records.content).toBe(1);
    expect(stats.backend.blobs).toBe(1);
    expect(await world.blobsOnDisk()).toBe(0);
    expect(gc.metrics()).toMatchObject({ collections: { success: 1, fail: 0 }, removed: { content: 1 }, reclaimed: { blobs: 1 } });
    expect(gc.metrics().seconds.count).toBe(1);
  });

  it("a synchronous caller's deletion is always collected by the time its wait returns", async () => {
    const world = await storeWorld();
    const gc = scheduler(world);
    for (let i = 0; i < 12; i++) {
      const blob = await leasedBlob(world, `l${i}`);
      // Someone else's collection is requested first, i turns earlier: the caller's must start after its delete.
      const other = gc.collect();
      for (let t = 0; t < i; t++) await nextTurn();
      await world.store.leases.delete(A, `l${i}`);
      await gc.collect();
      await expect(world.store.content.info(A, blob.digest)).rejects.toThrow(/not found/);
      await other;
    }
    expect(await world.blobsOnDisk()).toBe(0);
  });

  it("requests made together share one collection", async () => {
    const world = await storeWorld();
    const gc = scheduler(world);
    const all = await Promise.all([gc.collect(), gc.collect(), gc.collect()]);
    expect(world.watched.started).toBe(1);
    expect(all[1]).toBe(all[0]);
  });

  it("a deletion schedules a collection by itself (deletion_threshold 0)", async () => {
    const world = await storeWorld();
    scheduler(world);
    await leasedBlob(world, "l1");
    const next = world.watched.next();
    await world.store.leases.delete(A, "l1");
    expect((await next).records.content).toBe(1);
    expect(await world.blobsOnDisk()).toBe(0);
  });

  it("deletion_threshold n collects once n deletions happened, even with a collection scheduled far ahead", async () => {
    const world = await storeWorld();
    // The startup collection is a day away: only the threshold can bring one forward.
    scheduler(world, { ...QUIET, deletionThreshold: 3, startupDelay: 86_400_000 });
    for (const id of ["a", "b", "c"]) await leasedBlob(world, id);
    const next = world.watched.next();
    for (const id of ["a", "b", "c"]) await world.store.leases.delete(A, id);
    expect((await next).records.content).toBe(3);
    expect(world.watched.started).toBe(1);
  });

  it("mutation_threshold mutations start a collection when none is scheduled", async () => {
    const world = await storeWorld();
    scheduler(world, { ...QUIET, mutationThreshold: 5 });
    const next = world.watched.next();
    for (let i = 0; i < 5; i++) await world.store.leases.create(A, { id: `m${i}`, labels: {} });
    await next;
    expect(world.watched.started).toBe(1);
  });

  it("startup_delay runs a first collection after start", async () => {
    const world = await storeWorld();
    await leasedBlob(world, "l1");
    await world.store.leases.delete(A, "l1");
    const next = world.watched.next();
    scheduler(world, { ...QUIET, startupDelay: 1 });
    expect((await next).backend.blobs).toBe(1);
  });

  it("a wait given up with its signal rejects Canceled; the collection still runs", async () => {
    const world = await storeWorld();
    const gc = scheduler(world);
    await leasedBlob(world, "l1");
    await world.store.leases.delete(A, "l1");
    const aborter = new AbortController();
    const next = world.watched.next();
    const waiting = gc.collect({ signal: aborter.signal });
    aborter.abort();
    expect(await errorClassOf(waiting)).toBe("Canceled");
    expect((await next).records.content).toBe(1);
  });

  it("a failed collection fails its waiters with its error and counts as failed", async () => {
    const world = await storeWorld();
    const gc = scheduler(world);
    // A closed store refuses to collect.
    await world.store.close();
    expect(await errorClassOf(gc.collect())).toBe("Unavailable");
    expect(gc.metrics().collections).toEqual({ success: 0, fail: 1 });
  });

  it("close waits for the running collection, then refuses new requests", async () => {
    const world = await storeWorld();
    const gc = scheduler(world);
    const running = gc.collect();
    while (world.watched.started === 0) await nextTurn();
    await gc.close();
    expect((await running).durationMs).toBeGreaterThanOrEqual(0);
    expect(await errorClassOf(gc.collect())).toBe("Unavailable");
  });

  it("close rejects a request whose collection has not started", async () => {
    const world = await storeWorld();
    const gc = scheduler(world, { ...QUIET, scheduleDelay: 86_400_000 });
    const waiting = gc.collect();
    await gc.close();
    expect(await errorClassOf(waiting)).toBe("Unavailable");
    expect(world.watched.started).toBe(0);
  });

  it("clamps settings as containerd does", () => {
    expect(clampConfig({ pauseThreshold: 0.9, deletionThreshold: -1, mutationThreshold: -5, scheduleDelay: -1, startupDelay: -1 })).toEqual({
      pauseThreshold: 0.5,
      deletionThreshold: 0,
      mutationThreshold: 0,
      scheduleDelay: 0,
      startupDelay: 0,
    });
  });
});
