import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CommitPath } from "../src/commit-path.js";
import { MetaDb } from "../src/db.js";
import { afterThisTest, tempDir } from "./helpers.js";

/** Both places a commit can run: a budget no commit fits pins the write thread. */
const paths = [
  { where: "inline", commitPath: () => new CommitPath(Infinity) },
  { where: "on lmdb's write thread", commitPath: () => new CommitPath(-1, Number.MAX_SAFE_INTEGER) },
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
    const path = new CommitPath(1, 4);
    for (let i = 0; i < 10; i++) {
      expect(path.inline()).toBe(true);
      path.measured(0.3);
    }
    path.measured(20); // one slow fsync moves the average past the budget
    expect(path.inline()).toBe(false);
  });

  it("re-measures inline one commit in `resampleEvery`, and comes back once the disk is fast again", () => {
    const path = new CommitPath(1, 4);
    path.measured(8);
    const choices = Array.from({ length: 8 }, () => path.inline());
    expect(choices).toEqual([false, false, false, true, false, false, false, true]);
    const ranInline: boolean[] = [];
    for (let commit = 0; commit < 100; commit++) {
      const inline = path.inline();
      if (inline) path.measured(0.2); // the disk is fast again
      ranInline.push(inline);
    }
    expect(ranInline.slice(-10)).toEqual(Array(10).fill(true));
  });
});
