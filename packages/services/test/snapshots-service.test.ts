import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { eventPayloads, snapshotsApi, unpackAny } from "@berth/api";
import { openMetadataStore } from "@berth/metadata-lmdb";
import { createSnapshotsService, SNAPSHOT_LIST_BATCH } from "../src/index.js";
import { MemoryMetadata, RecordingPublisher, callContext } from "./fakes.js";
import { collect, errClass, handlers, msg } from "./helpers.js";
import { createMemorySnapshotter } from "./memory-snapshotter.js";

const S = snapshotsApi;
const ns = callContext({ namespace: "default" });
const other = callContext({ namespace: "other" });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** The service over the real namespaced metadata (lmdb in a temp dir) and an in-memory backend. */
async function setup() {
  const dir = await mkdtemp(join(tmpdir(), "berth-snapshots-service-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const backend = createMemorySnapshotter();
  const metadata = await openMetadataStore(join(dir, "meta.lmdb"), new MemoryMetadata().content, {
    snapshotters: new Map([["memory", backend]]),
  });
  cleanups.push(() => metadata.close());
  const publisher = new RecordingPublisher();
  const snapshots = handlers(createSnapshotsService(metadata, publisher), S.Snapshots);
  const prepare = (key: string, parent = "", ctx = ns, labels: Record<string, string> = {}) =>
    snapshots.prepare(msg(S.PrepareSnapshotRequestSchema, { snapshotter: "memory", key, parent, labels }), ctx);
  const commit = (name: string, key: string, ctx = ns) => snapshots.commit(msg(S.CommitSnapshotRequestSchema, { snapshotter: "memory", name, key }), ctx);
  const list = async (filters: string[] = [], ctx = ns) =>
    (await collect(snapshots.list(msg(S.ListSnapshotsRequestSchema, { snapshotter: "memory", filters }), ctx))).flatMap((r) => r.info!.map((i) => i.name!)).sort();
  return { backend, metadata, publisher, snapshots, prepare, commit, list };
}

describe("snapshots service", () => {
  it("names the snapshotter as containerd does when it is missing or not loaded", async () => {
    const { snapshots } = await setup();
    const missing = snapshots.stat(msg(S.StatSnapshotRequestSchema, { key: "k" }), ns);
    expect(await errClass(missing)).toBe("InvalidArgument");
    await expect(missing).rejects.toThrow("snapshotter argument missing");
    const unknown = snapshots.prepare(msg(S.PrepareSnapshotRequestSchema, { snapshotter: "zfs", key: "k" }), ns);
    expect(await errClass(unknown)).toBe("InvalidArgument");
    await expect(unknown).rejects.toThrow("snapshotter not loaded: zfs");
    expect(await errClass(collect(snapshots.list(msg(S.ListSnapshotsRequestSchema, { snapshotter: "zfs" }), ns)))).toBe("InvalidArgument");
  });

  it("prepare, view, commit and remove; mounts, stat and usage on the wire; events as containerd publishes them", async () => {
    const { snapshots, publisher, prepare, commit, backend } = await setup();
    const { mounts } = await prepare("extract", "", ns, { "containerd.io/gc.root": "x" });
    expect(mounts).toEqual([{ type: "bind", source: "/memory/default/1/extract", target: "", options: ["rw", "rbind"] }]);
    await commit("base", "extract");
    const view = await snapshots.view(msg(S.ViewSnapshotRequestSchema, { snapshotter: "memory", key: "ro", parent: "base" }), ns);
    expect(view.mounts?.[0]?.options).toEqual(["ro", "rbind"]);
    await prepare("rw", "base");
    expect((await snapshots.mounts(msg(S.MountsRequestSchema, { snapshotter: "memory", key: "rw" }), ns)).mounts?.[0]?.source).toMatch(/^\/memory\/default\/\d+\/rw$/);

    const { info } = await snapshots.stat(msg(S.StatSnapshotRequestSchema, { snapshotter: "memory", key: "rw" }), ns);
    expect(info).toMatchObject({ name: "rw", parent: "base", kind: S.Kind.ACTIVE });
    expect(info?.createdAt?.seconds).toBeGreaterThan(0n);
    expect((await snapshots.stat(msg(S.StatSnapshotRequestSchema, { snapshotter: "memory", key: "base" }), ns)).info?.kind).toBe(S.Kind.COMMITTED);
    expect((await snapshots.stat(msg(S.StatSnapshotRequestSchema, { snapshotter: "memory", key: "ro" }), ns)).info?.kind).toBe(S.Kind.VIEW);
    expect(await snapshots.usage(msg(S.UsageRequestSchema, { snapshotter: "memory", key: "rw" }), ns)).toEqual({ size: 8192n, inodes: 2n });

    await snapshots.remove(msg(S.RemoveSnapshotRequestSchema, { snapshotter: "memory", key: "rw" }), ns);
    expect(backend.snapshots.size).toBe(2);

    expect(publisher.topics()).toEqual(["default /snapshot/prepare", "default /snapshot/commit", "default /snapshot/prepare", "default /snapshot/remove"]);
    const [p1, c, p2, r] = publisher.events;
    expect(unpackAny(eventPayloads.SnapshotPrepareSchema, p1!.event)).toMatchObject({ key: "extract", parent: "", snapshotter: "memory" });
    expect(unpackAny(eventPayloads.SnapshotCommitSchema, c!.event)).toMatchObject({ key: "extract", name: "base", snapshotter: "memory" });
    expect(unpackAny(eventPayloads.SnapshotPrepareSchema, p2!.event)).toMatchObject({ key: "rw", parent: "base", snapshotter: "memory" });
    expect(unpackAny(eventPayloads.SnapshotRemoveSchema, r!.event)).toMatchObject({ key: "rw", snapshotter: "memory" });
  });

  it("keeps namespaces apart and reports the store's error classes", async () => {
    const { snapshots, prepare, commit, list, publisher } = await setup();
    await prepare("k");
    await prepare("k", "", other);
    expect(await errClass(prepare("k"))).toBe("AlreadyExists");
    await commit("c", "k");
    expect(await errClass(prepare("child", "c", other))).toBe("NotFound");
    expect(await list([], other)).toEqual(["k"]);
    await prepare("child", "c");
    expect(await errClass(snapshots.remove(msg(S.RemoveSnapshotRequestSchema, { snapshotter: "memory", key: "c" }), ns))).toBe("FailedPrecondition");
    expect(await errClass(snapshots.remove(msg(S.RemoveSnapshotRequestSchema, { snapshotter: "memory", key: "nope" }), ns))).toBe("NotFound");
    expect(await errClass(snapshots.mounts(msg(S.MountsRequestSchema, { snapshotter: "memory", key: "c" }), ns))).toBe("FailedPrecondition");
    expect(await errClass(prepare("k", "", callContext()))).toBe("FailedPrecondition");
    // Failed calls publish nothing.
    expect(publisher.topics().filter((t) => t.endsWith("/remove"))).toEqual([]);
  });

  it("updates labels by mask, as ctr snapshots label does", async () => {
    const { snapshots, prepare } = await setup();
    await prepare("k", "", ns, { a: "1", b: "2" });
    const update = (labels: Record<string, string>, paths?: string[]) =>
      snapshots.update(
        msg(S.UpdateSnapshotRequestSchema, { snapshotter: "memory", info: { name: "k", labels }, ...(paths ? { updateMask: { paths } } : {}) }),
        ns,
      );
    expect((await update({ c: "3" }, ["labels.c", "labels.a"])).info?.labels).toEqual({ b: "2", c: "3" });
    expect((await update({ only: "x" })).info?.labels).toEqual({ only: "x" });
    expect(await errClass(update({}, ["kind"]))).toBe("InvalidArgument");
    expect(await errClass(snapshots.update(msg(S.UpdateSnapshotRequestSchema, { snapshotter: "memory" }), ns))).toBe("InvalidArgument");
  });

  it(`lists in batches of ${SNAPSHOT_LIST_BATCH}, with filters; a malformed filter is InvalidArgument`, async () => {
    const { snapshots, prepare, list } = await setup();
    for (let i = 0; i < 2 * SNAPSHOT_LIST_BATCH + 5; i++) await prepare(`k${String(i).padStart(3, "0")}`, "", ns, i % 2 ? { odd: "1" } : {});
    const batches = await collect(snapshots.list(msg(S.ListSnapshotsRequestSchema, { snapshotter: "memory" }), ns));
    expect(batches.map((b) => b.info!.length)).toEqual([SNAPSHOT_LIST_BATCH, SNAPSHOT_LIST_BATCH, 5]);
    expect((await list(["labels.odd==1"])).length).toBe(SNAPSHOT_LIST_BATCH + 2);
    expect(await list(["name==k003"])).toEqual(["k003"]);
    expect(await errClass(list(["name=="]))).toBe("InvalidArgument");
  });

  it("holds what a leased call makes in the lease; rebases on commit; cleanup reaches the backend", async () => {
    const { metadata, snapshots, prepare, commit, backend } = await setup();
    await metadata.leases.create({ namespace: "default" }, { id: "l", labels: {} });
    await prepare("k", "", callContext({ namespace: "default", lease: "l" }));
    expect(await metadata.leases.listResources({ namespace: "default" }, "l")).toEqual([{ type: "snapshots/memory", id: "k" }]);
    await commit("c", "k");
    await prepare("k2");
    await snapshots.commit(msg(S.CommitSnapshotRequestSchema, { snapshotter: "memory", name: "n", key: "k2", parent: "c" }), ns);
    const stat = async (key: string) => (await snapshots.stat(msg(S.StatSnapshotRequestSchema, { snapshotter: "memory", key }), ns)).info;
    expect((await stat("n"))?.parent).toBe("c");
    // The backend is told its own key for the parent.
    const backendKey = (name: string) => [...backend.snapshots.keys()].find((k) => k.endsWith(`/${name}`));
    expect(backend.snapshots.get(backendKey("n")!)?.parent).toBe(backendKey("c"));
    await prepare("k3", "c");
    const moved = snapshots.commit(msg(S.CommitSnapshotRequestSchema, { snapshotter: "memory", name: "m", key: "k3", parent: "n" }), ns);
    expect(await errClass(moved)).toBe("InvalidArgument");
    await snapshots.cleanup(msg(S.CleanupRequestSchema, { snapshotter: "memory" }), ns);
    expect(backend.cleanups).toBe(1);
  });
});
