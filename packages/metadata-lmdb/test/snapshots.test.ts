import { describe, expect, it } from "vitest";
import { alreadyExists, type Snapshotter } from "@berth/core";
import { collect, expectError, ns, setup } from "./helpers.js";
import { createMemorySnapshotter, type MemorySnapshotter } from "./memory-snapshotter.js";

const A = ns("a");
const B = ns("b");

async function withSnapshots() {
  const backend = createMemorySnapshotter();
  const fixture = await setup({ snapshotters: new Map([["memory", backend]]) });
  const sn = () => fixture.store.snapshotters.get("memory")!;
  return Object.assign(fixture, { backend, sn });
}

/** The backend's keys, sorted. */
const backendKeys = (backend: MemorySnapshotter) => [...backend.snapshots.keys()].sort();

async function names(sn: Snapshotter, ctx = A, filters: string[] = []) {
  return (await collect(sn.walk(ctx, filters))).map((i) => i.name).sort();
}

describe("namespaced snapshots", () => {
  it("the same key in two namespaces is two backend snapshots, each with its own key", async () => {
    const { sn, backend } = await withSnapshots();
    const ma = await sn().prepare(A, "work", "");
    const mb = await sn().prepare(B, "work", "");
    expect(backendKeys(backend)).toEqual(["a/1/work", "b/2/work"]);
    expect(ma[0]!.source).toBe("/memory/a/1/work");
    expect(mb[0]!.source).toBe("/memory/b/2/work");
    expect((await sn().mounts(B, "work"))[0]!.source).toBe("/memory/b/2/work");

    await sn().commit(A, "layer", "work");
    expect((await sn().stat(A, "layer")).kind).toBe("committed");
    await expectError(sn().stat(B, "layer"), "NotFound");
    expect((await sn().stat(B, "work")).kind).toBe("active");
    expect(await names(sn(), A)).toEqual(["layer"]);
    expect(await names(sn(), B)).toEqual(["work"]);

    // Committed names are per namespace too: the same name in b is another backend snapshot.
    await sn().commit(B, "layer", "work");
    expect(backendKeys(backend)).toEqual(["a/3/layer", "b/4/layer"]);
    await sn().remove(A, "layer");
    expect(backendKeys(backend)).toEqual(["b/4/layer"]);
    expect((await sn().stat(B, "layer")).name).toBe("layer");
  });

  it("keeps parents, kinds and timestamps; walks with containerd's filter fields", async () => {
    const { sn, backend } = await withSnapshots();
    await sn().prepare(A, "extract", "", { labels: { "containerd.io/snapshot/diff-id": "sha256:x", own: "1" } });
    await sn().commit(A, "base", "extract", { labels: { tier: "base" } });
    const before = Date.now();
    await sn().prepare(A, "rw", "base", { labels: { role: "container" } });
    await sn().view(A, "ro", "base");

    const rw = await sn().stat(A, "rw");
    expect(rw).toMatchObject({ kind: "active", name: "rw", parent: "base", labels: { role: "container" } });
    expect(rw.createdAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(rw.updatedAt).toEqual(rw.createdAt);
    expect(await sn().stat(A, "base")).toMatchObject({ kind: "committed", parent: "", labels: { tier: "base" } });
    expect((await sn().stat(A, "ro")).kind).toBe("view");
    // The backend sees its own keys and parents.
    const backendRw = [...backend.snapshots.values()].find((s) => s.name.endsWith("/rw"))!;
    expect(backendRw.parent).toMatch(/^a\/\d+\/base$/);

    expect(await names(sn())).toEqual(["base", "ro", "rw"]);
    expect(await names(sn(), A, ["kind==committed"])).toEqual(["base"]);
    expect(await names(sn(), A, ["parent==base"])).toEqual(["ro", "rw"]);
    expect(await names(sn(), A, ["labels.role==container", "kind==view"])).toEqual(["ro", "rw"]);
    expect(await names(sn(), A, ['parent==""'])).toEqual(["base"]);
    expect(await names(sn(), A, ["name~=^r"])).toEqual(["ro", "rw"]);
    await expectError(collect(sn().walk(A, ["name=="])), "InvalidArgument");
  });

  it("resolves parents only in the caller's namespace and only when committed", async () => {
    const { sn, backend } = await withSnapshots();
    await sn().prepare(A, "p", "");
    await sn().commit(A, "parent", "p");
    await expectError(sn().prepare(B, "child", "parent"), "NotFound");
    await expectError(sn().view(B, "child", "parent"), "NotFound");
    await sn().prepare(A, "active", "");
    await expectError(sn().prepare(A, "child", "active"), "FailedPrecondition");
    await expectError(sn().prepare(A, "child", "missing"), "NotFound");
    // Nothing was created in the backend by the refused calls.
    expect(backendKeys(backend)).toHaveLength(2);
  });

  it("reused keys and names are AlreadyExists; commit needs an active snapshot", async () => {
    const { sn, backend } = await withSnapshots();
    await sn().prepare(A, "k", "");
    await expectError(sn().prepare(A, "k", ""), "AlreadyExists");
    await expectError(sn().view(A, "k", ""), "AlreadyExists");
    await sn().prepare(A, "k2", "");
    await sn().commit(A, "name", "k");
    await expectError(sn().commit(A, "name", "k2"), "AlreadyExists");
    await expectError(sn().prepare(A, "name", ""), "AlreadyExists");
    await sn().view(A, "v", "name");
    await expectError(sn().commit(A, "other", "v"), "FailedPrecondition");
    await expectError(sn().commit(A, "other", "name"), "FailedPrecondition");
    await expectError(sn().commit(A, "other", "gone"), "NotFound");
    await expectError(sn().prepare(A, "", ""), "InvalidArgument");
    await expectError(sn().commit(A, "", "k2"), "InvalidArgument");
    expect(backendKeys(backend)).toHaveLength(3);
  });

  it("removes children before parents, and the backend snapshot with the record", async () => {
    const { sn, backend } = await withSnapshots();
    await sn().prepare(A, "x", "");
    await sn().commit(A, "base", "x");
    await sn().prepare(A, "child", "base");
    await sn().commit(A, "mid", "child");
    await sn().view(A, "view", "mid");
    await expectError(sn().remove(A, "base"), "FailedPrecondition");
    await expectError(sn().remove(A, "mid"), "FailedPrecondition");
    await sn().remove(A, "view");
    await sn().remove(A, "mid");
    await sn().remove(A, "base");
    expect(backendKeys(backend)).toEqual([]);
    expect(await names(sn())).toEqual([]);
    await expectError(sn().remove(A, "base"), "NotFound");
  });

  it("keeps labels in metadata and hands the backend only containerd.io/snapshot/ ones", async () => {
    const { sn, backend } = await withSnapshots();
    const diffId = "containerd.io/snapshot/diff-id";
    await sn().prepare(A, "k", "", { labels: { [diffId]: "sha256:d", "containerd.io/gc.root": "now", empty: "" } });
    const inBackend = () => [...backend.snapshots.values()][0]!.labels;
    expect(inBackend()).toEqual({ [diffId]: "sha256:d" });
    expect((await sn().stat(A, "k")).labels).toEqual({ [diffId]: "sha256:d", "containerd.io/gc.root": "now" });

    let backendUpdates = 0;
    backend.intercept.update = (phase) => {
      if (phase === "before") backendUpdates++;
    };
    const updated = await sn().update(A, { name: "k", labels: { a: "1" } }, ["labels.a"]);
    expect(updated.labels).toEqual({ [diffId]: "sha256:d", "containerd.io/gc.root": "now", a: "1" });
    expect(backendUpdates).toBe(0);
    await sn().update(A, { name: "k", labels: {} }, [`labels.${diffId}`, "labels.containerd.io/snapshot/uidmapping"]);
    expect(backendUpdates).toBe(1);
    expect(inBackend()).toEqual({});
    expect((await sn().update(A, { name: "k", labels: { only: "this" } }, [])).labels).toEqual({ only: "this" });
    expect((await sn().update(A, { name: "k", labels: { b: "2" } }, ["labels"])).labels).toEqual({ b: "2" });
    expect((await sn().stat(A, "k")).updatedAt.getTime()).toBeGreaterThanOrEqual((await sn().stat(A, "k")).createdAt.getTime());

    await expectError(sn().update(A, { name: "k", labels: {} }, ["parent"]), "InvalidArgument");
    await expectError(sn().update(A, { name: "missing", labels: {} }, []), "NotFound");
    await expectError(sn().update(B, { name: "k", labels: {} }, []), "NotFound");
    await expectError(sn().prepare(A, "big", "", { labels: { k: "v".repeat(5000) } }), "InvalidArgument");
  });

  it("forwards usage and mounts with the backend key; a committed snapshot has no mounts", async () => {
    const { sn } = await withSnapshots();
    await sn().prepare(A, "k", "");
    expect(await sn().usage(A, "k")).toEqual({ size: 4096, inodes: 1 });
    expect(await sn().mounts(A, "k")).toEqual([{ type: "bind", source: "/memory/a/1/k", options: ["rw", "rbind"] }]);
    await sn().commit(A, "c", "k");
    await expectError(sn().mounts(A, "c"), "FailedPrecondition");
    await expectError(sn().usage(B, "c"), "NotFound");
    await expectError(sn().mounts(A, "k"), "NotFound");
  });

  it("records what is made under a lease as snapshots/<snapshotter>, and follows commit and remove", async () => {
    const { store, sn, backend } = await withSnapshots();
    await store.leases.create(A, { id: "l", labels: {} });
    const leased = ns("a", "l");
    const resources = () => store.leases.listResources(A, "l");
    await sn().prepare(leased, "k", "");
    expect(await resources()).toEqual([{ type: "snapshots/memory", id: "k" }]);
    await sn().commit(leased, "c", "k");
    expect(await resources()).toEqual([{ type: "snapshots/memory", id: "c" }]);
    await sn().view(leased, "v", "c");
    expect((await resources()).map((r) => r.id).sort()).toEqual(["c", "v"]);
    // An existing key still joins the caller's lease, and the call is AlreadyExists.
    await store.leases.create(A, { id: "l2", labels: {} });
    await expectError(sn().prepare(ns("a", "l2"), "v", ""), "AlreadyExists");
    expect(await store.leases.listResources(A, "l2")).toEqual([{ type: "snapshots/memory", id: "v" }]);
    await sn().remove(leased, "v");
    expect(await resources()).toEqual([{ type: "snapshots/memory", id: "c" }]);

    // A lease that does not exist fails the call before the backend is touched.
    const count = backend.snapshots.size;
    await expectError(sn().prepare(ns("a", "nope"), "n", ""), "NotFound");
    await expectError(sn().commit(ns("a", "nope"), "n", "c"), "NotFound");
    expect(backend.snapshots.size).toBe(count);
    await expectError(sn().stat(A, "n"), "NotFound");
  });

  it("a namespace holding snapshots cannot be deleted", async () => {
    const { store, sn } = await withSnapshots();
    await sn().prepare(A, "k", "");
    await expect(store.namespaces.delete("a")).rejects.toThrow(/snapshots on "memory" snapshotter/);
    await expectError(store.namespaces.delete("a"), "FailedPrecondition");
    await sn().remove(A, "k");
    await store.namespaces.delete("a");
  });

  it("a snapshot.ref target: existing in the namespace is AlreadyExists; found by a remote backend it is recorded under its name", async () => {
    const { sn, backend } = await withSnapshots();
    const REF = "containerd.io/snapshot.ref";
    // What a remote snapshotter has already: a committed snapshot carrying the target ref.
    await backend.prepare({ namespace: "" }, "remote/1", "");
    await backend.commit({ namespace: "" }, "remote/layer-1", "remote/1", { labels: { [REF]: "layer-1" } });
    backend.intercept.prepare = (phase) => {
      if (phase === "before") throw alreadyExists("target found");
    };
    await expectError(sn().prepare(A, "extract-1", "", { labels: { [REF]: "layer-1", mine: "x" } }), "AlreadyExists");
    expect(await sn().stat(A, "layer-1")).toMatchObject({ kind: "committed", parent: "", labels: { [REF]: "layer-1", mine: "x" } });
    await expectError(sn().stat(A, "extract-1"), "NotFound");
    // Known now: the next prepare for that target stops in metadata.
    delete backend.intercept.prepare;
    await expectError(sn().prepare(A, "extract-2", "", { labels: { [REF]: "layer-1" } }), "AlreadyExists");
    // Without a target, a backend AlreadyExists is the backend's fault, not the caller's key.
    backend.intercept.prepare = (phase) => {
      if (phase === "before") throw alreadyExists("confused backend");
    };
    await expectError(sn().prepare(A, "fresh", ""), "Unknown");
  });

  it("requires a namespace", async () => {
    const { sn } = await withSnapshots();
    await expectError(sn().prepare({ namespace: "" }, "k", ""), "FailedPrecondition");
    await expectError(collect(sn().walk({ namespace: "" }, [])), "FailedPrecondition");
  });

  it("survives a restart", async () => {
    const f = await withSnapshots();
    await f.sn().prepare(A, "k", "", { labels: { x: "y" } });
    await f.sn().commit(A, "c", "k");
    await f.sn().prepare(A, "k", "c");
    await f.reopen();
    expect(await names(f.sn())).toEqual(["c", "k"]);
    expect((await f.sn().stat(A, "k")).parent).toBe("c");
    await f.sn().prepare(A, "k2", "c");
    // The sequence goes on after a restart: no backend key is ever reused.
    expect(backendKeys(f.backend)).toEqual(["a/2/c", "a/3/k", "a/4/k2"]);
  });
});
