import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { withMounts } from "../src/index.js";
import { mountsUnder, rejection, requireRoot, tempDir } from "./helpers.js";

beforeAll(requireRoot);

describe("withMounts", () => {
  it("runs fn on the mounted root, then unmounts and removes it", async () => {
    const base = await tempDir();
    const src = join(base, "src");
    mkdirSync(src);
    writeFileSync(join(src, "f"), "content");
    const tmp = join(base, "tmp");
    mkdirSync(tmp);
    let seen = "";
    const result = await withMounts(
      [{ type: "bind", source: src, options: ["rbind", "ro"] }],
      async (root) => {
        seen = root;
        expect(root.startsWith(tmp)).toBe(true);
        return readFileSync(join(root, "f"), "utf8");
      },
      { tempDir: tmp },
    );
    expect(result).toBe("content");
    expect(existsSync(seen)).toBe(false);
    expect(await mountsUnder(tmp)).toEqual([]);
  });

  it("unmounts and removes the directory when fn throws, and rethrows fn's error", async () => {
    const base = await tempDir();
    let seen = "";
    const err = await rejection(
      withMounts(
        [{ type: "tmpfs", source: "tmpfs", options: [] }],
        async (root) => {
          seen = root;
          writeFileSync(join(root, "scratch"), "x");
          throw new Error("fn failed");
        },
        { tempDir: base },
      ),
    );
    expect(err.message).toBe("fn failed");
    expect(existsSync(seen)).toBe(false);
    expect(await mountsUnder(base)).toEqual([]);
  });

  it("removes the directory when mounting fails", async () => {
    const base = await tempDir();
    let ran = false;
    const err = await rejection(
      withMounts([{ type: "bind", source: join(base, "missing"), options: ["bind"] }], async () => (ran = true), { tempDir: base }),
    );
    expect(err.message).toContain("ENOENT");
    expect(ran).toBe(false);
    expect(await mountsUnder(base)).toEqual([]);
    expect(readdirSync(base)).toEqual([]);
  });

  it("does not mount when the signal is already aborted", async () => {
    const base = await tempDir();
    const controller = new AbortController();
    controller.abort();
    const err = await rejection(withMounts([{ type: "tmpfs", source: "tmpfs", options: [] }], async () => 1, { tempDir: base, signal: controller.signal }));
    expect(err.name).toBe("AbortError");
    expect(await mountsUnder(base)).toEqual([]);
  });
});
