// What a failure or a crash between a backend call and its metadata transaction leaves: never
// a record naming a backend snapshot that is not what it says; at worst a backend snapshot no
// record names, which cleanup removes. A "crash" here is a backend call that never returns
// (before or after it acted) followed by a restart of the store over the same backend.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { internal, silentLogger } from "@berth/core";
import { openMetadataStore } from "../src/index.js";
import { collect, expectError, ns, setup, tempDir } from "./helpers.js";
import { createMemoryContentStore } from "./memory-content-store.js";
import { createMemorySnapshotter, hang } from "./memory-snapshotter.js";

const A = ns("a");

async function withSnapshots() {
  const backend = createMemorySnapshotter();
  const fixture = await setup({ snapshotters: new Map([["memory", backend]]) });
  const sn = () => fixture.store.snapshotters.get("memory")!;
  return Object.assign(fixture, { backend, sn });
}

const keys = (m: Map<string, unknown>) => [...m.keys()].sort();

/** Resolves once `fn` has been called (the backend got that far). */
function reached(): { promise: Promise<void>; mark: () => void } {
  let mark!: () => void;
  const promise = new Promise<void>((r) => (mark = r));
  return { promise, mark };
}

describe("snapshot ordering against failures and crashes", () => {
  it("prepare: a backend failure leaves nothing; a crash after the backend acted leaves an orphan that cleanup removes", async () => {
    const f = await withSnapshots();
    f.backend.intercept.prepare = (phase) => {
      if (phase === "before") throw internal("disk full");
    };
    await expectError(f.sn().prepare(A, "k", ""), "Internal");
    await expectError(f.sn().stat(A, "k"), "NotFound");
    expect(f.backend.snapshots.size).toBe(0);

    const at = reached();
    f.backend.intercept.prepare = (phase) => {
      if (phase === "after") {
        at.mark();
        return hang();
      }
    };
    void f.sn().prepare(A, "k", "");
    await at.promise;
    await f.reopen(); // the daemon died with the backend snapshot made and no record of it
    delete f.backend.intercept.prepare;
    expect(keys(f.backend.snapshots)).toEqual(["a/2/k"]);
    await expectError(f.sn().stat(A, "k"), "NotFound");

    await f.sn().prepare(A, "kept", "");
    await f.sn().cleanup(A);
    expect(keys(f.backend.snapshots)).toEqual(["a/3/kept"]);
    expect(f.backend.cleanups).toBe(1);
    // The key is free to use again, under a fresh backend key.
    await f.sn().prepare(A, "k", "");
    expect(keys(f.backend.snapshots)).toEqual(["a/3/kept", "a/4/k"]);
  });

  it("prepare: of two racing prepares of one key one wins; the loser's backend snapshot is removed", async () => {
    const f = await withSnapshots();
    const results = await Promise.allSettled([f.sn().prepare(A, "k", ""), f.sn().prepare(A, "k", "")]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    await expectError(Promise.reject((results.find((r) => r.status === "rejected") as PromiseRejectedResult).reason), "AlreadyExists");
    expect(f.backend.snapshots.size).toBe(1);
  });

  it("prepare: a parent removed while its child was being created fails the child and leaves only orphans", async () => {
    const f = await withSnapshots();
    await f.sn().prepare(A, "x", "");
    await f.sn().commit(A, "base", "x");
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const at = reached();
    f.backend.intercept.prepare = async (phase) => {
      if (phase === "after") {
        at.mark();
        await gate;
      }
    };
    const child = f.sn().prepare(A, "child", "base");
    await at.promise;
    await f.sn().remove(A, "base"); // the backend refuses (it has the new child): left for cleanup
    release();
    await expectError(child, "NotFound");
    delete f.backend.intercept.prepare;
    await f.sn().cleanup(A);
    expect(f.backend.snapshots.size).toBe(0);
  });

  it("cleanup spares a snapshot whose record is still being written", async () => {
    const f = await withSnapshots();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const at = reached();
    f.backend.intercept.prepare = async (phase) => {
      if (phase === "after") {
        at.mark();
        await gate;
      }
    };
    const pending = f.sn().prepare(A, "slow", "");
    await at.promise;
    await f.sn().cleanup(A);
    expect(f.backend.snapshots.size).toBe(1);
    release();
    await pending;
    expect((await f.sn().stat(A, "slow")).kind).toBe("active");
  });

  it("commit: a backend failure leaves the active snapshot as it was", async () => {
    const f = await withSnapshots();
    await f.store.leases.create(A, { id: "l", labels: {} });
    await f.sn().prepare(ns("a", "l"), "k", "");
    f.backend.intercept.commit = (phase) => {
      if (phase === "before") throw internal("backend broke");
    };
    await expectError(f.sn().commit(ns("a", "l"), "c", "k"), "Internal");
    delete f.backend.intercept.commit;
    await expectError(f.sn().stat(A, "c"), "NotFound");
    expect((await f.sn().stat(A, "k")).kind).toBe("active");
    expect(await f.store.leases.listResources(A, "l")).toEqual([{ type: "snapshots/memory", id: "k" }]);
    await f.sn().commit(A, "c", "k");
    expect((await collect(f.sn().walk(A, []))).map((i) => i.name)).toEqual(["c"]);
  });

  it("commit: while in flight, the name is invisible and taken, the key cannot be removed or committed again", async () => {
    const f = await withSnapshots();
    await f.sn().prepare(A, "x", "");
    await f.sn().commit(A, "base", "x");
    await f.sn().prepare(A, "k", "base");
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const at = reached();
    f.backend.intercept.commit = async (phase) => {
      if (phase === "before") {
        at.mark();
        await gate;
      }
    };
    const commit = f.sn().commit(A, "c", "k");
    await at.promise;
    await expectError(f.sn().stat(A, "c"), "NotFound");
    await expectError(f.sn().prepare(A, "child", "c"), "NotFound");
    await expectError(f.sn().prepare(A, "c", ""), "AlreadyExists");
    await expectError(f.sn().remove(A, "k"), "FailedPrecondition");
    await expectError(f.sn().commit(A, "c2", "k"), "FailedPrecondition");
    await expectError(f.sn().remove(A, "base"), "FailedPrecondition");
    expect((await collect(f.sn().walk(A, []))).map((i) => i.name).sort()).toEqual(["base", "k"]);
    release();
    await commit;
    expect((await collect(f.sn().walk(A, []))).map((i) => i.name).sort()).toEqual(["base", "c"]);
    expect((await f.sn().stat(A, "c")).parent).toBe("base");
  });

  it("commit: a crash before the backend committed is undone on restart", async () => {
    const f = await withSnapshots();
    await f.sn().prepare(A, "k", "");
    const at = reached();
    f.backend.intercept.commit = (phase) => {
      if (phase === "before") {
        at.mark();
        return hang();
      }
    };
    void f.sn().commit(A, "c", "k");
    await at.promise;
    delete f.backend.intercept.commit;
    await f.reopen();
    await expectError(f.sn().stat(A, "c"), "NotFound");
    expect((await f.sn().stat(A, "k")).kind).toBe("active");
    await f.sn().commit(A, "c", "k");
    expect((await f.sn().stat(A, "c")).kind).toBe("committed");
  });

  it("commit: a crash after the backend committed is finished on restart, lease included", async () => {
    const f = await withSnapshots();
    await f.store.leases.create(A, { id: "l", labels: {} });
    await f.sn().prepare(A, "x", "");
    await f.sn().commit(A, "base", "x");
    await f.sn().prepare(ns("a", "l"), "k", "base");
    const at = reached();
    f.backend.intercept.commit = (phase) => {
      if (phase === "after") {
        at.mark();
        return hang();
      }
    };
    void f.sn().commit(ns("a", "l"), "c", "k", { labels: { kept: "yes" } });
    await at.promise;
    delete f.backend.intercept.commit;
    await f.reopen();
    expect(await f.sn().stat(A, "c")).toMatchObject({ kind: "committed", parent: "base", labels: { kept: "yes" } });
    await expectError(f.sn().stat(A, "k"), "NotFound");
    expect(await f.store.leases.listResources(A, "l")).toEqual([{ type: "snapshots/memory", id: "c" }]);
    // The parent's child link moved from the key to the name.
    await expectError(f.sn().remove(A, "base"), "FailedPrecondition");
    await f.sn().remove(A, "c");
    await f.sn().remove(A, "base");
    expect(f.backend.snapshots.size).toBe(0);
  });

  it("a pending commit waits for its snapshotter to be loaded again", async () => {
    const dir = await tempDir();
    const path = join(dir, "meta.lmdb");
    const backend = createMemorySnapshotter();
    const content = createMemoryContentStore();
    const first = await openMetadataStore(path, content, { snapshotters: new Map([["memory", backend]]) });
    await first.snapshotters.get("memory")!.prepare(A, "k", "");
    const at = reached();
    backend.intercept.commit = (phase) => {
      if (phase === "after") {
        at.mark();
        return hang();
      }
    };
    void first.snapshotters.get("memory")!.commit(A, "c", "k");
    await at.promise;
    delete backend.intercept.commit;
    await first.close();

    const without = await openMetadataStore(path, content, { log: silentLogger });
    expect(without.snapshotters.size).toBe(0);
    await without.close();
    const again = await openMetadataStore(path, content, { snapshotters: new Map([["memory", backend]]) });
    try {
      expect((await again.snapshotters.get("memory")!.stat(A, "c")).kind).toBe("committed");
    } finally {
      await again.close();
    }
  });

  it("remove: a backend that refuses leaves an orphan for cleanup, and the record is gone", async () => {
    const f = await withSnapshots();
    await f.sn().prepare(A, "k", "");
    f.backend.intercept.remove = (phase) => {
      if (phase === "before") throw internal("busy");
    };
    await f.sn().remove(A, "k");
    await expectError(f.sn().stat(A, "k"), "NotFound");
    expect(f.backend.snapshots.size).toBe(1);
    delete f.backend.intercept.remove;
    await f.sn().cleanup(A);
    expect(f.backend.snapshots.size).toBe(0);
  });

  it("cleanup removes orphaned chains children first and keeps what any namespace names", async () => {
    const f = await withSnapshots();
    await f.sn().prepare(ns("b"), "kept", "");
    // Orphans as a crash would leave them: a chain the backend holds and no record names.
    const bctx = { namespace: "" };
    await f.backend.prepare(bctx, "x/1/root", "");
    await f.backend.commit(bctx, "x/2/root", "x/1/root");
    await f.backend.prepare(bctx, "x/3/mid", "x/2/root");
    await f.backend.commit(bctx, "x/4/mid", "x/3/mid");
    await f.backend.view(bctx, "x/5/leaf", "x/4/mid");
    await f.sn().cleanup(A);
    expect(keys(f.backend.snapshots)).toEqual(["b/1/kept"]);
  });
});
