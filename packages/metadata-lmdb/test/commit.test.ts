import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MetaDb } from "../src/db.js";
import { afterThisTest, tempDir } from "./helpers.js";

async function openDb(): Promise<{ db: MetaDb; path: string }> {
  const path = join(await tempDir(), "meta.lmdb");
  const db = MetaDb.open(path);
  afterThisTest(() => db.close());
  return { db, path };
}

describe("MetaDb.commit (committed on lmdb's write thread)", () => {
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

  it("concurrent commits share a batch, and one that throws leaves only its own writes out", async () => {
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
