import { mkdirSync, writeFileSync } from "node:fs";
import { link, mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { diskUsage, placeNewSnapshot } from "../src/index.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "berth-snapshot-fs-"));
  dirs.push(d);
  return d;
}

describe("diskUsage", () => {
  it("counts allocated blocks and each inode once, the root included", async () => {
    const root = await tempDir();
    await mkdir(join(root, "d"));
    await writeFile(join(root, "d", "data"), Buffer.alloc(64 * 1024, 7));
    await link(join(root, "d", "data"), join(root, "hardlink"));
    await writeFile(join(root, "sparse"), "");
    await truncate(join(root, "sparse"), 512 * 1024 * 1024);
    const usage = await diskUsage(root);
    expect(usage.inodes).toBe(4); // root, d, data (twice linked), sparse
    expect(usage.size).toBeGreaterThanOrEqual(64 * 1024);
    expect(usage.size).toBeLessThan(1024 * 1024);
  });

  it("walks names that are not UTF-8 and deep trees off the event loop", async () => {
    const root = await tempDir();
    const latin1 = Buffer.concat([Buffer.from(root + "/caf"), Buffer.from([0xe9])]); // "café" in Latin-1
    await mkdir(latin1);
    await writeFile(Buffer.concat([latin1, Buffer.from("/inside")]), "x");
    let path = root;
    for (let i = 0; i < 200; i++) {
      path = join(path, "d");
      mkdirSync(path);
      for (let f = 0; f < 60; f++) writeFileSync(join(path, `f${f}`), "");
    }
    // 12 000 entries walked on the thread pool: an immediate queued now runs before the walk ends.
    let yielded = false;
    setImmediate(() => (yielded = true));
    const { usage, yieldedBeforeEnd } = await diskUsage(root).then((usage) => ({ usage, yieldedBeforeEnd: yielded }));
    expect(usage.inodes).toBe(1 + 2 + 200 * 61);
    expect(yieldedBeforeEnd).toBe(true);
  });

  it("stops when its signal is aborted", async () => {
    const root = await tempDir();
    await mkdir(join(root, "d"));
    await expect(diskUsage(root, AbortSignal.abort())).rejects.toThrow(/abort/i);
  });
});

describe("placeNewSnapshot", () => {
  it("renames into place, moving an orphan under the same name aside", async () => {
    const root = await tempDir();
    await mkdir(join(root, "new-a"));
    await writeFile(join(root, "new-a", "fresh"), "f");
    await mkdir(join(root, "7"));
    await writeFile(join(root, "7", "stale"), "s");
    placeNewSnapshot(join(root, "new-a"), join(root, "7"));
    expect(await readdir(join(root, "7"))).toEqual(["fresh"]);
    const names = (await readdir(root)).sort();
    expect(names).toHaveLength(2);
    expect(names[1]).toMatch(/^orphan-[0-9a-f]{12}$/);
    expect(await readFile(join(root, names[1]!, "stale"), "utf8")).toBe("s");
  });
});
