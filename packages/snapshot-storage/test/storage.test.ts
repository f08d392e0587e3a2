import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { classOf } from "@berth/core";
import { openSnapshotStorage, toInfo, type SnapshotStorage } from "../src/index.js";

const dirs: string[] = [];
const open: SnapshotStorage[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "berth-snapshot-storage-"));
  dirs.push(dir);
  return join(dir, "metadata.lmdb");
}

async function newStorage(path?: string): Promise<SnapshotStorage> {
  const s = await openSnapshotStorage(path ?? (await tempPath()));
  open.push(s);
  return s;
}

function errorClass(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return classOf(err);
  }
  return "none";
}

const usage = { size: 4096, inodes: 3 };

describe("snapshot storage", () => {
  it("allocates increasing ids, keeps them through commit and never reuses them", async () => {
    const s = await newStorage();
    const a = s.write((tx) => tx.create("active", "a", ""));
    const b = s.write((tx) => tx.create("view", "b", ""));
    expect([a.id, b.id]).toEqual([1, 2]);
    const committed = s.write((tx) => tx.commit("a", "A", usage));
    expect(committed.id).toBe(1);
    expect(committed.usage).toEqual(usage);
    s.write((tx) => tx.remove("b"));
    expect(s.write((tx) => tx.create("active", "b", "A")).id).toBe(3);
  });

  it("gives the parent id chain, nearest first, and back links to children", async () => {
    const s = await newStorage();
    for (const [name, parent] of [["base", ""], ["mid", "base"], ["top", "mid"]] as const) {
      s.write((tx) => {
        tx.create("active", `${name}-a`, parent);
        tx.commit(`${name}-a`, name, usage);
      });
    }
    const chain = s.write((tx) => tx.create("active", "work", "top"));
    expect(chain).toEqual({ id: 4, kind: "active", parentIds: [3, 2, 1] });
    expect(s.read((tx) => tx.chain("work"))).toEqual(chain);
    expect(s.read((tx) => [tx.hasChildren("base"), tx.hasChildren("top"), tx.hasChildren("work")])).toEqual([true, true, false]);
    expect(errorClass(() => s.read((tx) => tx.chain("top")))).toBe("FailedPrecondition");
    expect(errorClass(() => s.write((tx) => tx.remove("top")))).toBe("FailedPrecondition");
    s.write((tx) => tx.remove("work"));
    expect(s.read((tx) => tx.hasChildren("top"))).toBe(false);
    s.write((tx) => tx.remove("top"));
    expect([...s.read((tx) => tx.byId()).keys()].sort()).toEqual([1, 2]);
  });

  it("moves a child's back link to its committed name", async () => {
    const s = await newStorage();
    s.write((tx) => {
      tx.create("active", "base-a", "");
      tx.commit("base-a", "base", usage);
      tx.create("active", "child-a", "base");
      tx.commit("child-a", "child", usage);
    });
    expect(errorClass(() => s.write((tx) => tx.remove("base")))).toBe("FailedPrecondition");
    s.write((tx) => tx.remove("child"));
    s.write((tx) => tx.remove("base"));
    expect(s.read((tx) => tx.walk([]))).toEqual([]);
  });

  it("aborts a transaction that throws, leaving nothing of it", async () => {
    const s = await newStorage();
    expect(() =>
      s.write((tx) => {
        tx.create("active", "a", "");
        tx.create("active", "a", "");
      }),
    ).toThrow(/already exists/);
    expect(s.read((tx) => tx.find("a"))).toBeUndefined();
    // The id the aborted transaction took is free again: nothing of it was kept.
    expect(s.write((tx) => tx.create("active", "a", "")).id).toBe(1);
  });

  it("refuses asynchronous transactions", async () => {
    const s = await newStorage();
    expect(() => s.write(async (tx) => tx.create("active", "a", ""))).toThrow(/synchronous/);
    expect(s.read((tx) => tx.find("a"))).toBeUndefined();
  });

  it("checks kinds, keys, names and labels with containerd's error classes", async () => {
    const s = await newStorage();
    s.write((tx) => tx.create("active", "a", ""));
    s.write((tx) => tx.create("view", "v", ""));
    expect(errorClass(() => s.write((tx) => tx.create("active", "", "")))).toBe("InvalidArgument");
    expect(errorClass(() => s.write((tx) => tx.create("active", "x".repeat(4000), "")))).toBe("InvalidArgument");
    expect(errorClass(() => s.write((tx) => tx.create("active", "b", "a")))).toBe("FailedPrecondition");
    expect(errorClass(() => s.write((tx) => tx.create("active", "b", "v")))).toBe("FailedPrecondition");
    expect(errorClass(() => s.write((tx) => tx.create("active", "b", "missing")))).toBe("NotFound");
    expect(errorClass(() => s.write((tx) => tx.create("active", "a", "")))).toBe("AlreadyExists");
    expect(errorClass(() => s.write((tx) => tx.commit("v", "c", usage)))).toBe("FailedPrecondition");
    expect(errorClass(() => s.write((tx) => tx.commit("a", "v", usage)))).toBe("AlreadyExists");
    expect(errorClass(() => s.write((tx) => tx.commit("missing", "c", usage)))).toBe("NotFound");
    expect(errorClass(() => s.read((tx) => tx.get("x".repeat(4000))))).toBe("NotFound");
    const big = { labels: { k: "v".repeat(5000) } };
    expect(errorClass(() => s.write((tx) => tx.create("active", "b", "", big)))).toBe("InvalidArgument");
    expect(errorClass(() => s.write((tx) => tx.update({ name: "a", labels: {} }, ["parent"])))).toBe("InvalidArgument");
  });

  it("replaces labels on commit and updates them by field path", async () => {
    const s = await newStorage();
    s.write((tx) => tx.create("active", "a", "", { labels: { keep: "no" } }));
    const c = s.write((tx) => tx.commit("a", "c", usage, { labels: { fresh: "yes" } }));
    expect(c.labels).toEqual({ fresh: "yes" });
    const u1 = s.write((tx) => tx.update({ name: "c", labels: { x: "1", y: "2" } }, ["labels.x"]));
    expect(u1.labels).toEqual({ fresh: "yes", x: "1" });
    const u2 = s.write((tx) => tx.update({ name: "c", labels: {} }, ["labels.fresh"]));
    expect(u2.labels).toEqual({ x: "1" });
    const u3 = s.write((tx) => tx.update({ name: "c", labels: { z: "3" } }, []));
    expect(u3.labels).toEqual({ z: "3" });
    expect(u3.createdAt).toEqual(c.createdAt);
    expect(u3.updatedAt.getTime()).toBeGreaterThanOrEqual(c.updatedAt.getTime());
    expect(u3.kind).toBe("committed");
  });

  it("walks with containerd's filters", async () => {
    const s = await newStorage();
    s.write((tx) => {
      tx.create("active", "c-a", "", { labels: { "a.b": "c" } });
      tx.commit("c-a", "c", usage, { labels: { tier: "base" } });
      tx.create("active", "a", "c", { labels: { "a.b": "c" } });
      tx.create("view", "v", "c");
    });
    const names = (filters: string[]) => s.read((tx) => tx.walk(filters).map((i) => i.name));
    expect(names([])).toEqual(["a", "c", "v"]);
    expect(names(["kind==committed"])).toEqual(["c"]);
    expect(names(["parent==c"])).toEqual(["a", "v"]);
    expect(names(['labels."a.b"==c'])).toEqual(["a"]);
    expect(names(["labels.tier==base", "kind==view"])).toEqual(["c", "v"]);
    expect(names(["parent"])).toEqual(["a", "c", "v"]);
    expect(errorClass(() => names(["kind=="]))).toBe("InvalidArgument");
  });

  it("keeps everything across a reopen, and refuses use after close", async () => {
    const path = await tempPath();
    const s1 = await openSnapshotStorage(path);
    const created = s1.write((tx) => {
      tx.create("active", "a", "", { labels: { l: "1" } });
      return tx.commit("a", "c", usage);
    });
    await s1.close();
    await s1.close();
    expect(errorClass(() => s1.read((tx) => tx.find("c")))).toBe("Unavailable");
    const s2 = await newStorage(path);
    const found = s2.read((tx) => tx.get("c"));
    expect(found).toEqual(created);
    expect(toInfo(found)).toEqual({
      kind: "committed",
      name: "c",
      parent: "",
      labels: {},
      createdAt: created.createdAt,
      updatedAt: created.updatedAt,
    });
    expect(s2.write((tx) => tx.create("active", "next", "c")).id).toBe(2);
  });
});
