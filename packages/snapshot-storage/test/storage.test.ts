import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { classOf, CommitPath } from "@berth/core";
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

/** Both places a commit can run: a budget nothing exceeds keeps commits inline; one every commit exceeds, with no recovery, keeps them on lmdb's write thread. */
function offloaded(): CommitPath {
  const path = new CommitPath(-1, -Infinity);
  path.measured(true, 1);
  return path;
}
const commitPaths = [
  { where: "commits inline", inline: true, commitPath: () => new CommitPath(Infinity) },
  { where: "commits on lmdb's write thread", inline: false, commitPath: offloaded },
];
let commitPath: () => CommitPath = () => new CommitPath();

async function newStorage(path?: string): Promise<SnapshotStorage> {
  const s = await openSnapshotStorage(path ?? (await tempPath()), { commitPath: commitPath() });
  open.push(s);
  return s;
}

async function errorClass(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (err) {
    return classOf(err);
  }
  return "none";
}

const usage = { size: 4096, inodes: 3 };

describe.each(commitPaths)("snapshot storage ($where)", ({ inline, commitPath: pathFor }) => {
  beforeEach(() => {
    commitPath = pathFor;
  });

  it("allocates increasing ids, keeps them through commit and never reuses them", async () => {
    const s = await newStorage();
    const a = await s.write((tx) => tx.create("active", "a", ""));
    const b = await s.write((tx) => tx.create("view", "b", ""));
    expect([a.id, b.id]).toEqual([1, 2]);
    const committed = await s.write((tx) => tx.commit("a", "A", usage));
    expect(committed.id).toBe(1);
    expect(committed.usage).toEqual(usage);
    await s.write((tx) => tx.remove("b"));
    expect((await s.write((tx) => tx.create("active", "b", "A"))).id).toBe(3);
  });

  it("gives the parent id chain, nearest first, and back links to children", async () => {
    const s = await newStorage();
    for (const [name, parent] of [["base", ""], ["mid", "base"], ["top", "mid"]] as const) {
      await s.write((tx) => {
        tx.create("active", `${name}-a`, parent);
        tx.commit(`${name}-a`, name, usage);
      });
    }
    const chain = await s.write((tx) => tx.create("active", "work", "top"));
    expect(chain).toEqual({ id: 4, kind: "active", parentIds: [3, 2, 1] });
    expect(s.read((tx) => tx.chain("work"))).toEqual(chain);
    expect(s.read((tx) => [tx.hasChildren("base"), tx.hasChildren("top"), tx.hasChildren("work")])).toEqual([true, true, false]);
    expect(await errorClass(() => s.read((tx) => tx.chain("top")))).toBe("FailedPrecondition");
    expect(await errorClass(() => s.write((tx) => tx.remove("top")))).toBe("FailedPrecondition");
    await s.write((tx) => tx.remove("work"));
    expect(s.read((tx) => tx.hasChildren("top"))).toBe(false);
    await s.write((tx) => tx.remove("top"));
    expect([...s.read((tx) => tx.byId()).keys()].sort()).toEqual([1, 2]);
  });

  it("moves a child's back link to its committed name", async () => {
    const s = await newStorage();
    await s.write((tx) => {
      tx.create("active", "base-a", "");
      tx.commit("base-a", "base", usage);
      tx.create("active", "child-a", "base");
      tx.commit("child-a", "child", usage);
    });
    expect(await errorClass(() => s.write((tx) => tx.remove("base")))).toBe("FailedPrecondition");
    await s.write((tx) => tx.remove("child"));
    await s.write((tx) => tx.remove("base"));
    expect(s.read((tx) => tx.walk([]))).toEqual([]);
  });

  it("aborts a transaction that throws, leaving nothing of it", async () => {
    const s = await newStorage();
    await expect(
      s.write((tx) => {
        tx.create("active", "a", "");
        tx.create("active", "a", "");
      }),
    ).rejects.toThrow(/already exists/);
    expect(s.read((tx) => tx.find("a"))).toBeUndefined();
    // The id the aborted transaction took is free again: nothing of it was kept.
    expect((await s.write((tx) => tx.create("active", "a", ""))).id).toBe(1);
  });

  it("refuses asynchronous transactions", async () => {
    const s = await newStorage();
    await expect(s.write(async (tx) => tx.create("active", "a", ""))).rejects.toThrow(/synchronous/);
    expect(s.read((tx) => tx.find("a"))).toBeUndefined();
  });

  it("commits concurrent writes independently: one that throws takes only its own writes back", async () => {
    const s = await newStorage();
    const results = await Promise.allSettled([
      s.write((tx) => tx.create("active", "a", "")),
      s.write((tx) => {
        tx.create("active", "b", "");
        return tx.create("active", "a", "");
      }),
      s.write((tx) => tx.create("active", "c", "")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(s.read((tx) => tx.walk([]).map((i) => [i.name, i.id]))).toEqual([["a", 1], ["c", 2]]);
  });

  it("shows a write to readers only once it has committed (inline: before write returns)", async () => {
    const s = await newStorage();
    const writing = s.write((tx) => tx.create("active", "a", ""));
    expect(s.read((tx) => tx.find("a"))?.id).toBe(inline ? 1 : undefined);
    await writing;
    expect(s.read((tx) => tx.find("a"))?.id).toBe(1);
  });

  it("checks kinds, keys, names and labels with containerd's error classes", async () => {
    const s = await newStorage();
    await s.write((tx) => tx.create("active", "a", ""));
    await s.write((tx) => tx.create("view", "v", ""));
    expect(await errorClass(() => s.write((tx) => tx.create("active", "", "")))).toBe("InvalidArgument");
    expect(await errorClass(() => s.write((tx) => tx.create("active", "x".repeat(4000), "")))).toBe("InvalidArgument");
    expect(await errorClass(() => s.write((tx) => tx.create("active", "b", "a")))).toBe("FailedPrecondition");
    expect(await errorClass(() => s.write((tx) => tx.create("active", "b", "v")))).toBe("FailedPrecondition");
    expect(await errorClass(() => s.write((tx) => tx.create("active", "b", "missing")))).toBe("NotFound");
    expect(await errorClass(() => s.write((tx) => tx.create("active", "a", "")))).toBe("AlreadyExists");
    expect(await errorClass(() => s.write((tx) => tx.commit("v", "c", usage)))).toBe("FailedPrecondition");
    expect(await errorClass(() => s.write((tx) => tx.commit("a", "v", usage)))).toBe("AlreadyExists");
    expect(await errorClass(() => s.write((tx) => tx.commit("missing", "c", usage)))).toBe("NotFound");
    expect(await errorClass(() => s.read((tx) => tx.get("x".repeat(4000))))).toBe("NotFound");
    const big = { labels: { k: "v".repeat(5000) } };
    expect(await errorClass(() => s.write((tx) => tx.create("active", "b", "", big)))).toBe("InvalidArgument");
    expect(await errorClass(() => s.write((tx) => tx.update({ name: "a", labels: {} }, ["parent"])))).toBe("InvalidArgument");
  });

  it("replaces labels on commit and updates them by field path", async () => {
    const s = await newStorage();
    await s.write((tx) => tx.create("active", "a", "", { labels: { keep: "no" } }));
    const c = await s.write((tx) => tx.commit("a", "c", usage, { labels: { fresh: "yes" } }));
    expect(c.labels).toEqual({ fresh: "yes" });
    const u1 = await s.write((tx) => tx.update({ name: "c", labels: { x: "1", y: "2" } }, ["labels.x"]));
    expect(u1.labels).toEqual({ fresh: "yes", x: "1" });
    const u2 = await s.write((tx) => tx.update({ name: "c", labels: {} }, ["labels.fresh"]));
    expect(u2.labels).toEqual({ x: "1" });
    const u3 = await s.write((tx) => tx.update({ name: "c", labels: { z: "3" } }, []));
    expect(u3.labels).toEqual({ z: "3" });
    expect(u3.createdAt).toEqual(c.createdAt);
    expect(u3.updatedAt.getTime()).toBeGreaterThanOrEqual(c.updatedAt.getTime());
    expect(u3.kind).toBe("committed");
  });

  it("walks with containerd's filters", async () => {
    const s = await newStorage();
    await s.write((tx) => {
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
    expect(await errorClass(() => names(["kind=="]))).toBe("InvalidArgument");
  });

  it("keeps everything across a reopen, and refuses use after close", async () => {
    const path = await tempPath();
    const s1 = await openSnapshotStorage(path);
    const created = await s1.write((tx) => {
      tx.create("active", "a", "", { labels: { l: "1" } });
      return tx.commit("a", "c", usage);
    });
    await s1.close();
    await s1.close();
    expect(await errorClass(() => s1.read((tx) => tx.find("c")))).toBe("Unavailable");
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
    expect((await s2.write((tx) => tx.create("active", "next", "c"))).id).toBe(2);
  });
});
