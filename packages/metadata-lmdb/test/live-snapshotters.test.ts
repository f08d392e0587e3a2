// Snapshotters that join after the store opened (proxy plugins registered while berthd runs):
// the store's namespaced map follows the map it was given, so they are usable at once, and
// one that leaves is gone from it.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import type { Snapshotter } from "@berth/core";
import { openMetadataStore } from "../src/index.js";
import { createMemoryContentStore } from "./memory-content-store.js";
import { createMemorySnapshotter } from "./memory-snapshotter.js";

const disposers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const dispose of disposers.splice(0).reverse()) await dispose();
});

it("serves a snapshotter added to the backends map after open, and forgets one removed", async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-meta-live-"));
  const backends = new Map<string, Snapshotter>();
  const store = await openMetadataStore(join(dir, "meta.lmdb"), createMemoryContentStore(), { snapshotters: backends });
  disposers.push(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const ctx = { namespace: "ns1" };
  expect(store.snapshotters.get("late")).toBeUndefined();

  backends.set("late", createMemorySnapshotter());
  const late = store.snapshotters.get("late");
  expect(late).toBeDefined();
  expect(store.snapshotters.get("late")).toBe(late); // one namespaced view per backend
  await late!.prepare(ctx, "k1", "");
  await late!.commit(ctx, "c1", "k1");
  expect((await late!.stat(ctx, "c1")).kind).toBe("committed");
  expect([...store.snapshotters.keys()]).toEqual(["late"]);

  backends.delete("late");
  expect(store.snapshotters.get("late")).toBeUndefined();
  expect(store.snapshotters.size).toBe(0);
});
