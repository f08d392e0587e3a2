import { constants as fsc, mkdirSync, readFileSync, readdirSync, statSync, statfsSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { classOf, type Mount } from "@berth/core";
import { mknod } from "@berth/native";
import { mountAll } from "../src/index.js";
import { mountAt, mountsUnder, rejection, requireRoot, tempDir } from "./helpers.js";

const TMPFS_MAGIC = 0x01021994;
const OVERLAYFS_MAGIC = 0x794c7630;

beforeAll(requireRoot);

function dirWith(path: string, files: Record<string, string>): string {
  mkdirSync(path, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(path, name), content);
  return path;
}

describe("bind mounts", () => {
  it("binds a directory by type and by option", async () => {
    const base = await tempDir();
    const src = dirWith(join(base, "src"), { hello: "world" });
    const a = dirWith(join(base, "a"), {});
    const b = dirWith(join(base, "b"), {});
    await mountAll([{ type: "bind", source: src, options: [] }], a);
    await mountAll([{ type: "none", source: src, options: ["rbind"] }], b);
    expect(readFileSync(join(a, "hello"), "utf8")).toBe("world");
    expect(readFileSync(join(b, "hello"), "utf8")).toBe("world");
  });

  it("makes a read-only bind: writes fail with EROFS, the source stays writable", async () => {
    const base = await tempDir();
    const src = dirWith(join(base, "src"), { f: "x" });
    const dst = dirWith(join(base, "dst"), {});
    await mountAll([{ type: "bind", source: src, options: ["rbind", "ro", "nosuid", "nodev"] }], dst);
    let code: string | undefined;
    try {
      writeFileSync(join(dst, "new"), "y");
    } catch (err) {
      code = (err as NodeJS.ErrnoException).code;
    }
    expect(code).toBe("EROFS");
    writeFileSync(join(src, "new"), "y");
    expect(readFileSync(join(dst, "new"), "utf8")).toBe("y");
    const info = await mountAt(dst);
    expect(info?.options.split(",")).toEqual(expect.arrayContaining(["ro", "nosuid", "nodev"]));
  });

  it("applies propagation in a call of its own", async () => {
    const base = await tempDir();
    const src = dirWith(join(base, "src"), {});
    const shared = dirWith(join(base, "shared"), {});
    const priv = dirWith(join(base, "private"), {});
    await mountAll([{ type: "bind", source: src, options: ["bind", "shared"] }], shared);
    await mountAll([{ type: "bind", source: src, options: ["bind", "rprivate"] }], priv);
    expect((await mountAt(shared))?.optionalFields.some((f) => f.startsWith("shared:"))).toBe(true);
    expect((await mountAt(priv))?.optionalFields).toEqual([]);
  });
});

describe("tmpfs", () => {
  it("passes flags to the kernel and the rest as data", async () => {
    const dir = await tempDir();
    await mountAll([{ type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "noexec", "size=2m", "mode=0750"] }], dir);
    const fs = statfsSync(dir);
    expect(fs.type).toBe(TMPFS_MAGIC);
    expect(fs.blocks * fs.bsize).toBe(2 * 1024 * 1024);
    expect(statSync(dir).mode & 0o777).toBe(0o750);
    expect((await mountAt(dir))?.options.split(",")).toEqual(expect.arrayContaining(["nosuid", "nodev", "noexec"]));
  });

  it("mounts at a target subpath, and a symlink cannot lead it out of the root", async () => {
    const base = await tempDir();
    const root = dirWith(join(base, "root"), {});
    mkdirSync(join(root, "real"));
    mkdirSync(join(root, "real", "proc"));
    symlinkSync("../../..", join(root, "real", "escape")); // would point at / from outside the root
    await mountAll(
      [
        { type: "tmpfs", source: "tmpfs", target: "real/proc", options: [] },
        { type: "tmpfs", source: "tmpfs", target: "real/escape/real", options: ["size=1m"] },
      ],
      root,
    );
    expect((await mountAt(join(root, "real", "proc")))?.fsType).toBe("tmpfs");
    // "escape" resolves to the root itself, so the second mount lands on <root>/real, hiding the first.
    expect((await mountAt(join(root, "real")))?.fsType).toBe("tmpfs");
    expect(statfsSync(join(root, "real")).type).toBe(TMPFS_MAGIC);
    expect((await mountsUnder(root)).map((m) => m.mountPoint.toString())).toEqual([join(root, "real", "proc"), join(root, "real")]);
  });
});

describe("overlay", () => {
  it("merges lowers and an upper; a 0:0 character device whiteout hides a lower file", async () => {
    const base = await tempDir();
    const top = dirWith(join(base, "l1"), { "from-top": "1", shared: "top wins" });
    dirWith(join(base, "l2"), { "from-bottom": "2", shared: "bottom", gone: "hidden by a whiteout" });
    mknod(join(top, "gone"), fsc.S_IFCHR, 0, 0);
    const upper = dirWith(join(base, "upper"), { "from-upper": "u" });
    const work = dirWith(join(base, "work"), {});
    const merged = dirWith(join(base, "merged"), {});
    await mountAll(
      [{ type: "overlay", source: "overlay", options: [`lowerdir=${top}:${join(base, "l2")}`, `upperdir=${upper}`, `workdir=${work}`, "index=off"] }],
      merged,
    );
    expect(statfsSync(merged).type).toBe(OVERLAYFS_MAGIC);
    expect(readdirSync(merged).sort()).toEqual(["from-bottom", "from-top", "from-upper", "shared"]);
    expect(readFileSync(join(merged, "shared"), "utf8")).toBe("top wins");
    writeFileSync(join(merged, "written"), "w");
    expect(readFileSync(join(upper, "written"), "utf8")).toBe("w");
  });

  it("mounts 250 lowers under a long path (options far beyond a page) and shows the deepest lower's file", async () => {
    const base = await tempDir();
    const layers = join(base, "a-rather-long-directory-name-to-make-every-layer-path-long", "io.containerd.snapshotter.v1.overlayfs", "snapshots");
    const lowers: string[] = [];
    for (let i = 1; i <= 250; i++) {
      const fs = join(layers, String(i), "fs");
      mkdirSync(fs, { recursive: true });
      writeFileSync(join(fs, `layer-${i}`), String(i));
      lowers.unshift(fs); // lowerdir lists the top layer first
    }
    writeFileSync(join(layers, "1", "fs", "deepest"), "bottom layer");
    const upper = dirWith(join(layers, "251", "fs"), {});
    const work = dirWith(join(layers, "251", "work"), {});
    const options = [`lowerdir=${lowers.join(":")}`, `upperdir=${upper}`, `workdir=${work}`];
    expect(options.join(",").length).toBeGreaterThan(4096);

    const merged = dirWith(join(base, "merged"), {});
    const cwd = process.cwd();
    await mountAll([{ type: "overlay", source: "overlay", options }], merged);
    expect(process.cwd()).toBe(cwd);
    expect(readFileSync(join(merged, "deepest"), "utf8")).toBe("bottom layer");
    expect(readdirSync(merged)).toHaveLength(251);
  });

  it("refuses, as InvalidArgument, overlay options that cannot be made to fit", async () => {
    const base = await tempDir();
    const lowers = Array.from({ length: 300 }, (_, i) => `/${"x".repeat(20)}${i}/fs`); // no common parent
    const err = await rejection(mountAll([{ type: "overlay", source: "overlay", options: [`lowerdir=${lowers.join(":")}`] }], base));
    expect(classOf(err)).toBe("InvalidArgument");
    expect(err.message).toMatch(/options are \d+ bytes/);
  });
});

describe("failures", () => {
  it("a mount failing midway unmounts the earlier ones and names the mount", async () => {
    const base = await tempDir();
    const src = dirWith(join(base, "src"), { f: "x" });
    mkdirSync(join(src, "sub"));
    const target = dirWith(join(base, "target"), {});
    const mounts: Mount[] = [
      { type: "bind", source: src, options: ["rbind"] },
      { type: "tmpfs", source: "tmpfs", target: "sub", options: [] },
      { type: "overlay", source: "overlay", target: "sub", options: [`lowerdir=${join(base, "missing")}`] },
    ];
    const err = await rejection(mountAll(mounts, target));
    expect(classOf(err)).toBe("NotFound");
    expect(err.message).toContain(`mount overlay on ${join(target, "sub")}: ENOENT`);
    expect(err.cause?.code).toBe("ENOENT");
    expect(await mountsUnder(target)).toEqual([]);
    expect(readdirSync(target)).toEqual([]);
  });

  it("rejects options meant for containerd's mount manager or not supported", async () => {
    const dir = await tempDir();
    expect(classOf(await rejection(mountAll([{ type: "tmpfs", source: "tmpfs", options: ["X-containerd.mkdir.path=/x"] }], dir)))).toBe("InvalidArgument");
    expect(classOf(await rejection(mountAll([{ type: "ext4", source: "/img", options: ["loop"] }], dir)))).toBe("NotImplemented");
    expect(await mountsUnder(dir)).toEqual([]);
  });

  it("reports an unknown filesystem type as Internal with the kernel's code", async () => {
    const dir = await tempDir();
    const err = await rejection(mountAll([{ type: "no-such-fs", source: "none", options: [] }], dir));
    expect(classOf(err)).toBe("Internal");
    expect(err.message).toContain("ENODEV");
  });
});
