import { lstatSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createFiles } from "../src/index.js";
import { requireRoot, tempDir } from "./helpers.js";

beforeAll(requireRoot);

describe("createFiles", () => {
  it("creates each file with its bytes, mode, owner, special bits and times, in one call", async () => {
    const dir = await tempDir();
    const p = (name: string) => Buffer.from(join(dir, name));
    const latin1 = Buffer.concat([Buffer.from(join(dir, "caf")), Buffer.from([0xe9])]);
    const outcome = await createFiles([
      { path: p("plain"), mode: 0o644, data: Buffer.from("hello\n"), atime: 1_600_000_000, mtime: 1_500_000_000 },
      { path: p("owned"), mode: 0o600, owner: { uid: 1000, gid: 1001 }, data: Buffer.alloc(70_000, 9), atime: 1, mtime: 2 },
      { path: p("setuid"), mode: 0o4755, owner: { uid: 0, gid: 0 }, chmod: true, data: Buffer.alloc(0), atime: 3, mtime: 4 },
      { path: latin1, mode: 0o640, data: Buffer.from("é"), atime: 5, mtime: 6 },
    ]);
    expect(outcome).toEqual([undefined, undefined, undefined, undefined]);
    const plain = lstatSync(p("plain"));
    expect(readFileSync(p("plain"), "utf8")).toBe("hello\n");
    expect(plain.mode & 0o7777).toBe(0o644 & ~process.umask());
    expect(plain.mtimeMs).toBe(1_500_000_000_000);
    expect(plain.atimeMs).toBe(1_600_000_000_000);
    const owned = lstatSync(p("owned"));
    expect([owned.uid, owned.gid, owned.size]).toEqual([1000, 1001, 70_000]);
    expect(lstatSync(p("setuid")).mode & 0o7777).toBe(0o4755);
    expect(readFileSync(latin1).toString()).toBe("é");
  });

  it("reports each failure with its errno and path, leaves an existing file alone, and goes on with the rest", async () => {
    const dir = await tempDir();
    writeFileSync(join(dir, "there"), "old");
    const outcome = await createFiles([
      { path: Buffer.from(join(dir, "there")), mode: 0o644, data: Buffer.from("new"), atime: 0, mtime: 0 },
      { path: Buffer.from(join(dir, "missing-dir", "x")), mode: 0o644, data: Buffer.from("x"), atime: 0, mtime: 0 },
      { path: Buffer.from(join(dir, "fine")), mode: 0o644, data: Buffer.from("ok"), atime: 0, mtime: 0 },
    ]);
    expect(outcome[0]).toMatchObject({ code: "EEXIST", path: join(dir, "there") });
    expect(outcome[1]).toMatchObject({ code: "ENOENT" });
    expect(outcome[2]).toBeUndefined();
    expect(readFileSync(join(dir, "there"), "utf8")).toBe("old");
    expect(readFileSync(join(dir, "fine"), "utf8")).toBe("ok");
  });

  it("makes symlinks with their owner and times, never following them, and refuses one in the way", async () => {
    const dir = await tempDir();
    writeFileSync(join(dir, "target"), "t");
    const outcome = await createFiles([
      { path: Buffer.from(join(dir, "rel")), mode: 0, symlink: true, owner: { uid: 7, gid: 8 }, data: Buffer.from("target"), atime: 1_000_000, mtime: 2_000_000 },
      { path: Buffer.from(join(dir, "abs")), mode: 0, symlink: true, data: Buffer.from("/nowhere/at/all"), atime: 5, mtime: 6 },
      { path: Buffer.from(join(dir, "target")), mode: 0, symlink: true, data: Buffer.from("x"), atime: 0, mtime: 0 },
      { path: Buffer.from(join(dir, "nul")), mode: 0, symlink: true, data: Buffer.from("a\0b"), atime: 0, mtime: 0 },
    ]);
    expect(outcome.slice(0, 2)).toEqual([undefined, undefined]);
    expect(outcome[2]).toMatchObject({ code: "EEXIST" });
    expect(outcome[3]).toMatchObject({ code: "EINVAL" });
    // Before reading the link, which updates its atime.
    const link = lstatSync(join(dir, "rel"));
    expect([link.uid, link.gid, link.mtimeMs, link.atimeMs]).toEqual([7, 8, 2_000_000_000, 1_000_000_000]);
    expect(readlinkSync(join(dir, "rel"))).toBe("target");
    expect(readlinkSync(join(dir, "abs"))).toBe("/nowhere/at/all");
    // The target was not touched by the chown or the times.
    const target = lstatSync(join(dir, "target"));
    expect([target.uid, readFileSync(join(dir, "target"), "utf8")]).toEqual([0, "t"]);
    expect(target.mtimeMs).not.toBe(2_000_000_000);
    expect(lstatSync(join(dir, "abs")).mtimeMs).toBe(6000);
  });
});
