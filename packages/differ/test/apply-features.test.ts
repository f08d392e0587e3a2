import { lstatSync, readFileSync, readdirSync, readlinkSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import { lgetxattr } from "@berth/native";
import { readMountInfo } from "@berth/mount";
import { bindRoot, newBench, overlayStack } from "./layers.js";
import { MEDIA_TYPE_LAYER_GZIP } from "../src/index.js";
import { ctx, storeBlob } from "./content.js";
import { CAP_NET_RAW, gzipTar } from "./tar-builder.js";
import { requireRoot, tempDir } from "./temp.js";

const T = (sec: number, nsec = 0) => ({ sec, nsec });

describe("applying layers: what the entries carry", () => {
  beforeEach(() => requireRoot());

  it("keeps owners, modes (setuid on a non-root file, 0777 past the umask, sticky, setgid dirs) and xattrs", async () => {
    const { root, mounts } = await bindRoot();
    const bench = await newBench();
    await bench.apply(mounts, [
      { name: "bin/", mode: 0o755 },
      { name: "bin/ping", data: "elf", uid: 1000, gid: 1000, mode: 0o4755, xattrs: { "security.capability": CAP_NET_RAW } },
      { name: "bin/wide", data: "w", mode: 0o777 },
      { name: "shared/", mode: 0o2775, gid: 50 },
      { name: "shared/inherits", data: "g" },
      { name: "tmp/", mode: 0o1777 },
      { name: "notes", data: "n", xattrs: { "user.colour": "blue", "trusted.k": Buffer.from([0, 255]) } },
      { name: "docs/", xattrs: { "user.dir": "yes" } },
    ]);
    const ping = lstatSync(join(root, "bin/ping"));
    expect([ping.uid, ping.gid, ping.mode & 0o7777]).toEqual([1000, 1000, 0o4755]);
    expect(lgetxattr(join(root, "bin/ping"), "security.capability")).toEqual(CAP_NET_RAW);
    expect(lstatSync(join(root, "bin/wide")).mode & 0o7777).toBe(0o777);
    expect(lstatSync(join(root, "shared")).mode & 0o7777).toBe(0o2775);
    expect(lstatSync(join(root, "shared/inherits")).gid).toBe(0); // the header's group, not the setgid dir's
    expect(lstatSync(join(root, "tmp")).mode & 0o7777).toBe(0o1777);
    expect(lgetxattr(join(root, "notes"), "user.colour")?.toString()).toBe("blue");
    expect(lgetxattr(join(root, "notes"), "trusted.k")).toEqual(Buffer.from([0, 255]));
    expect(lgetxattr(join(root, "docs"), "user.dir")?.toString()).toBe("yes");
  });

  it("makes devices, FIFOs, symlinks and hardlinks, and keeps raw (non-UTF-8) names", async () => {
    const { root, mounts } = await bindRoot();
    const bench = await newBench();
    const raw = Buffer.from([0x6e, 0xe9, 0xff]);
    await bench.apply(mounts, [
      { name: "dev/null", type: "char", devmajor: 1, devminor: 3, mode: 0o666 },
      { name: "dev/loop0", type: "block", devmajor: 7, devminor: 0, mode: 0o660, gid: 6 },
      { name: "run/fifo", type: "fifo", mode: 0o600 },
      { name: "abs", type: "symlink", linkname: "/etc/os-release", uid: 5, gid: 6 },
      { name: "rel", type: "symlink", linkname: "run/fifo" },
      { name: "a", data: "shared" },
      { name: "b", type: "hardlink", linkname: "a" },
      { name: Buffer.concat([raw, Buffer.from("/")]) },
      { name: Buffer.concat([raw, Buffer.from("/f")]), data: "raw" },
    ]);
    const nul = lstatSync(join(root, "dev/null"));
    expect(nul.isCharacterDevice() && nul.rdev === 0x103 && (nul.mode & 0o777) === 0o666).toBe(true);
    const loop = lstatSync(join(root, "dev/loop0"));
    expect(loop.isBlockDevice() && loop.rdev === 0x700 && loop.gid === 6).toBe(true);
    expect(lstatSync(join(root, "run/fifo")).isFIFO()).toBe(true);
    expect(readlinkSync(join(root, "abs"))).toBe("/etc/os-release");
    expect([lstatSync(join(root, "abs")).uid, lstatSync(join(root, "abs")).gid]).toEqual([5, 6]);
    expect(lstatSync(join(root, "b")).ino).toBe(lstatSync(join(root, "a")).ino);
    const names = readdirSync(root, { encoding: "buffer" });
    expect(names.some((n) => n.equals(raw))).toBe(true);
    expect(readFileSync(Buffer.concat([Buffer.from(`${root}/`), raw, Buffer.from("/f")]), "utf8")).toBe("raw");
  });

  it("sets mtimes to the nanosecond, directories' last (after their contents are written)", async () => {
    const { root, mounts } = await bindRoot();
    const bench = await newBench();
    await bench.apply(mounts, [
      { name: "d/", mtime: T(1000000000) },
      { name: "d/f", data: "x", mtime: T(1234567890, 987654321) },
      { name: "d/s", type: "symlink", linkname: "f", mtime: T(1111111111) },
      { name: "d/sub/", mtime: T(999) },
      { name: "d/sub/g", data: "y" },
    ]);
    const big = (p: string) => lstatSync(join(root, p), { bigint: true }).mtimeNs;
    expect(big("d/f")).toBe(1234567890987654321n);
    expect(big("d/s")).toBe(1111111111000000000n);
    expect(big("d")).toBe(1000000000000000000n);
    expect(big("d/sub")).toBe(999000000000n);
  });

  it("replaces what is in the way, never writing through it", async () => {
    const { root, mounts } = await bindRoot();
    const bench = await newBench();
    await bench.apply(mounts, [
      { name: "dir/", mode: 0o755 },
      { name: "dir/child", data: "c" },
      { name: "file", data: "f" },
      { name: "orig", data: "original", mode: 0o600 },
      { name: "twin", type: "hardlink", linkname: "orig", mode: 0o600 },
      { name: "target", data: "untouched" },
      { name: "sym", type: "symlink", linkname: "target" },
    ]);
    await bench.apply(mounts, [
      { name: "dir", data: "now a file" },
      { name: "file/", mode: 0o700 },
      { name: "file/inside", data: "i" },
      { name: "orig", data: "new", mode: 0o644 },
      { name: "sym", data: "replaced the link" },
    ]);
    expect(readFileSync(join(root, "dir"), "utf8")).toBe("now a file");
    expect(lstatSync(join(root, "file")).mode & 0o7777).toBe(0o700);
    expect(readFileSync(join(root, "file/inside"), "utf8")).toBe("i");
    // Unlink + create: the other name of the old inode keeps the old bytes and mode.
    expect(readFileSync(join(root, "orig"), "utf8")).toBe("new");
    expect(readFileSync(join(root, "twin"), "utf8")).toBe("original");
    expect(lstatSync(join(root, "twin")).mode & 0o777).toBe(0o600);
    expect(lstatSync(join(root, "sym")).isFile()).toBe(true);
    expect(readFileSync(join(root, "target"), "utf8")).toBe("untouched");
  });

  it("removes whiteouts' targets and empties opaque directories, keeping what the layer itself wrote", async () => {
    const { root, mounts } = await bindRoot();
    const bench = await newBench();
    await bench.apply(mounts, [
      { name: "keep/a", data: "a" },
      { name: "gone/deep/x", data: "x" },
      { name: "opq/old1", data: "1" },
      { name: "opq/sub/old2", data: "2" },
    ]);
    await bench.apply(mounts, [
      { name: ".wh.gone" },
      { name: "keep/.wh.never-existed" },
      { name: "opq/" },
      { name: "opq/sub/" },
      { name: "opq/sub/new", data: "n" },
      { name: "opq/.wh..wh..opq" },
      { name: "opq/later", data: "l" },
    ]);
    expect(readdirSync(root).sort()).toEqual(["keep", "opq"]);
    expect(readdirSync(join(root, "opq")).sort()).toEqual(["later", "sub"]);
    expect(readdirSync(join(root, "opq/sub"))).toEqual(["new"]);
  });

  it("writes large files across many chunks intact", async () => {
    const { root, mounts } = await bindRoot();
    const bench = await newBench();
    const big = randomBytes(5 * 1024 * 1024 + 123);
    await bench.apply(mounts, [{ name: "./big.bin", data: big }, { name: "./" }]);
    expect(readFileSync(join(root, "big.bin")).equals(big)).toBe(true);
  });
});

describe("applying into overlay upper directories", () => {
  beforeEach(() => requireRoot());

  it("copies up a hardlink's target that lives only in a lower dir", async () => {
    const stack = await overlayStack();
    const bench = await newBench();
    const l0 = stack.layer();
    await bench.apply(l0.mounts, [
      { name: "etc/" },
      { name: "etc/conf", data: "lower bytes", mode: 0o640, uid: 5, gid: 7, xattrs: { "user.k": "v" }, mtime: T(1500000000) },
    ]);
    const l1 = stack.layer();
    await bench.apply(l1.mounts, [{ name: "etc/conf-link", type: "hardlink", linkname: "etc/conf", mode: 0o640, uid: 5, gid: 7, mtime: T(1500000000) }]);
    const up = (p: string) => join(l1.dir, p);
    expect(readFileSync(up("etc/conf"), "utf8")).toBe("lower bytes");
    expect(lstatSync(up("etc/conf-link")).ino).toBe(lstatSync(up("etc/conf")).ino);
    const st = lstatSync(up("etc/conf"));
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o640, 5, 7]);
    expect(lgetxattr(up("etc/conf"), "user.k")?.toString()).toBe("v");
    expect(readFileSync(join(l0.dir, "etc/conf"), "utf8")).toBe("lower bytes");
  });

  it("does not copy up what a whiteout or an opaque directory hides", async () => {
    const stack = await overlayStack();
    const bench = await newBench();
    await bench.apply(stack.layer().mounts, [{ name: "x", data: "x" }, { name: "d/y", data: "y" }]);
    await bench.apply(stack.layer().mounts, [{ name: ".wh.x" }, { name: "d/" }, { name: "d/.wh..wh..opq" }]);
    const top = stack.layer();
    await expect(bench.apply(top.mounts, [{ name: "lx", type: "hardlink", linkname: "x" }])).rejects.toThrow(/entry "lx": hardlink target "x" does not exist/);
    await expect(bench.apply(top.mounts, [{ name: "ly", type: "hardlink", linkname: "d/y" }])).rejects.toThrow(/entry "ly"/);
    expect(readdirSync(top.dir).filter((n) => n !== "d")).toEqual([]);
  });

  it("makes missing parents as copies of the lower directory, and whiteouts as 0:0 devices", async () => {
    const stack = await overlayStack();
    const bench = await newBench();
    const l0 = stack.layer();
    await bench.apply(l0.mounts, [{ name: "srv/", mode: 0o710, uid: 33, gid: 34 }, { name: "srv/old", data: "o" }, { name: "srv/dir/x", data: "x" }]);
    const l1 = stack.layer();
    await bench.apply(l1.mounts, [{ name: "srv/new", data: "n" }, { name: "srv/.wh.old" }, { name: "srv/.wh.dir" }, { name: "srv/dir2/" }, { name: "srv/dir2/.wh..wh..opq" }]);
    const srv = lstatSync(join(l1.dir, "srv"));
    expect([srv.mode & 0o7777, srv.uid, srv.gid]).toEqual([0o710, 33, 34]);
    for (const gone of ["srv/old", "srv/dir"]) {
      const st = lstatSync(join(l1.dir, gone));
      expect(st.isCharacterDevice() && st.rdev === 0).toBe(true);
    }
    expect(lgetxattr(join(l1.dir, "srv/dir2"), "trusted.overlay.opaque")?.toString()).toBe("y");
    expect(lgetxattr(join(l1.dir, "srv"), "trusted.overlay.opaque")).toBeUndefined();
  });
});

describe("applying through real mounts", () => {
  beforeEach(() => requireRoot());

  it("mounts what it cannot reach directly (two binds, one at a subpath) and always unmounts", async () => {
    const base = await tempDir();
    const [a, b] = [join(base, "a"), join(base, "b")];
    mkdirSync(a);
    mkdirSync(join(a, "sub"));
    mkdirSync(b);
    writeFileSync(join(b, "was-here"), "b");
    const mounts = [
      { type: "bind", source: a, options: ["rbind", "rw"] },
      { type: "bind", source: b, target: "sub", options: ["rbind", "rw"] },
    ];
    const bench = await newBench();
    // The applier mounts under the temp dir: point it at ours, so mounts other suites make meanwhile do not count.
    const mountsBelowBase = async () => (await readMountInfo()).filter((m) => m.mountPoint.toString().startsWith(`${base}/`)).length;
    const savedTmp = process.env["TMPDIR"];
    process.env["TMPDIR"] = base;
    try {
      await bench.apply(mounts, [{ name: "top", data: "t" }, { name: "sub/inner", data: "i" }]);
      expect(readFileSync(join(a, "top"), "utf8")).toBe("t");
      expect(readFileSync(join(b, "inner"), "utf8")).toBe("i");
      expect(readdirSync(join(a, "sub"))).toEqual([]);
      expect(await mountsBelowBase()).toBe(0);
      // A failing layer unmounts too.
      await expect(bench.apply(mounts, [{ name: "../escape", data: "e" }])).rejects.toThrow(/entry "..\/escape"/);
      expect(await mountsBelowBase()).toBe(0);
    } finally {
      if (savedTmp === undefined) delete process.env["TMPDIR"];
      else process.env["TMPDIR"] = savedTmp;
    }
  });

  it("syncs the filesystem when asked (syncFs)", async () => {
    const { root, mounts } = await bindRoot();
    const bench = await newBench();
    const desc = await storeBlob(bench.store, gzipTar([{ name: "synced", data: "s" }]), MEDIA_TYPE_LAYER_GZIP);
    await bench.differ.apply(ctx, desc, mounts, { syncFs: true });
    expect(readFileSync(join(root, "synced"), "utf8")).toBe("s");
  });
});
