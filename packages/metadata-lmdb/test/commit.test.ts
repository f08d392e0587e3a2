import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CommitPath } from "@berth/core";
import { MetaDb } from "../src/db.js";
import { afterThisTest, tempDir } from "./helpers.js";

/** Both places a commit can run: a budget nothing exceeds keeps commits inline; one every commit exceeds, with no recovery, keeps them on the write thread. */
function offloaded(): CommitPath {
  const path = new CommitPath(-1, -Infinity);
  path.measured(true, 1); // over budget: off to the write thread, for good
  return path;
}
const paths = [
  { where: "inline", commitPath: () => new CommitPath(Infinity) },
  { where: "on lmdb's write thread", commitPath: offloaded },
];

describe.each(paths)("MetaDb.commit ($where)", ({ commitPath }) => {
  async function openDb(): Promise<{ db: MetaDb; path: string }> {
    const path = join(await tempDir(), "meta.lmdb");
    const db = MetaDb.open(path, { commitPath: commitPath() });
    afterThisTest(() => db.close());
    return { db, path };
  }

  it("answers with the callback's result once its writes are visible and survive a reopen", async () => {
    const { db, path } = await openDb();
    const result = await db.commit((tx) => {
      tx.put(["a"], 1);
      return "done";
    });
    expect(result).toBe("done");
    expect(db.get(["a"])).toBe(1);
    await db.close();
    const again = MetaDb.open(path);
    afterThisTest(() => again.close());
    expect(again.get(["a"])).toBe(1);
  });

  it("of concurrent commits, one that throws leaves only its own writes out", async () => {
    const { db } = await openDb();
    const failing = db.commit((tx) => {
      tx.put(["bad"], 1);
      throw new Error("refused");
    });
    const ok = db.commit((tx) => tx.put(["good"], 2));
    await expect(failing).rejects.toThrow("refused");
    await ok;
    expect(db.has(["bad"])).toBe(false);
    expect(db.get(["good"])).toBe(2);
  });

  it("a callback sees the writes of a commit queued before it", async () => {
    const { db } = await openDb();
    const first = db.commit((tx) => tx.put(["n"], 1));
    const second = db.commit((tx) => {
      const n = tx.get<number>(["n"]) ?? 0;
      tx.put(["n"], n + 1);
      return n + 1;
    });
    await first;
    expect(await second).toBe(2);
  });

  it("refuses an async callback, which would hold lmdb's write transaction across turns", async () => {
    const { db } = await openDb();
    await expect(db.commit(async () => undefined)).rejects.toThrow(/synchronous/);
  });
});

describe("CommitPath", () => {
  it("stays inline while commits fit the budget, and leaves it once their average does not", () => {
    const path = new CommitPath(1, 2);
    for (let i = 0; i < 10; i++) {
      expect(path.inline()).toBe(true);
      path.measured(true, 0.3);
    }
    path.measured(true, 20); // one slow fsync moves the average past the budget
    expect(path.inline()).toBe(false);
  });

  it("comes back inline only once commits on the write thread are fast, without blocking to find out", () => {
    const path = new CommitPath(1, 2);
    path.measured(true, 30);
    expect(path.inline()).toBe(false);
    // The disk stays slow: write-thread commits take 25 ms, and nothing runs inline.
    for (let i = 0; i < 20; i++) path.measured(false, 25);
    expect(path.inline()).toBe(false);
    // It recovers: a few quick commits on the write thread bring the average under 2 ms.
    let commits = 0;
    while (!path.inline()) {
      path.measured(false, 0.8);
      commits += 1;
      expect(commits).toBeLessThan(20);
    }
    expect(commits).toBeGreaterThan(3);
    // A commit that began on the other path before the switch does not count.
    path.measured(false, 500);
    expect(path.inline()).toBe(true);
  });
});
