import { linkSync, mkdirSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { diskUsage } from "../src/index.js";
import { tempDir } from "./helpers.js";

describe("diskUsage", () => {
  it("sums allocated blocks and inodes, each hard-linked inode once, without following symlinks", async () => {
    const root = await tempDir();
    mkdirSync(join(root, "a", "b"), { recursive: true });
    writeFileSync(join(root, "a", "b", "data"), Buffer.alloc(128 * 1024, 1));
    linkSync(join(root, "a", "b", "data"), join(root, "a", "again"));
    symlinkSync("/usr", join(root, "usr")); // /usr's tree must not be counted
    writeFileSync(join(root, "sparse"), "");
    truncateSync(join(root, "sparse"), 1 << 30);
    const usage = await diskUsage(root);
    expect(usage.inodes).toBe(6); // root, a, b, data, usr, sparse
    expect(usage.size).toBeGreaterThanOrEqual(128 * 1024);
    expect(usage.size).toBeLessThan(1 << 20);
  });

  it("rejects with the errno and the path where the walk failed", async () => {
    const root = await tempDir();
    await expect(diskUsage(join(root, "missing"))).rejects.toMatchObject({ code: "ENOENT", path: join(root, "missing") });
  });
});
