import { execFile } from "node:child_process";
import { lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync, chownSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { lgetxattr, lsetxattr } from "@berth/native";
import { TarParser, readTar, TarFormatError, type TarRecord } from "../src/index.js";
import { CAP_NET_RAW, buildTar } from "./tar-builder.js";
import { requireRoot, tempDir } from "./temp.js";

const run = promisify(execFile);

async function records(tar: Buffer, chunk = tar.length): Promise<TarRecord[]> {
  async function* pieces() {
    for (let at = 0; at < tar.length; at += chunk) yield tar.subarray(at, at + chunk);
  }
  const out: TarRecord[] = [];
  for await (const r of readTar(pieces())) out.push(r);
  return out;
}

const latin1 = (b: Buffer) => b.toString("latin1");

describe("tar reader and writer", () => {
  const longDir = "d".repeat(120);
  const longest = `${"x".repeat(150)}/${"y".repeat(150)}/file`;
  const rawName = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]); // "café.txt" in latin1: not UTF-8
  const tar = buildTar([
    { name: `${longDir}/`, mode: 0o2775 },
    { name: `${longDir}/file-in-prefix-split`, data: "split\n" },
    { name: longest, data: Buffer.alloc(3000, 7), uid: 3_000_000, gid: 70_000_000, mtime: { sec: 1577836800, nsec: 123456789 } },
    { name: "link", type: "symlink", linkname: "t".repeat(300) },
    { name: "hard", type: "hardlink", linkname: longest },
    { name: "caps", data: "bin", xattrs: { "security.capability": CAP_NET_RAW, "user.note": "hi\n" } },
    { name: rawName, data: "raw" },
    { name: "dev/null", type: "char", devmajor: 1, devminor: 3, mode: 0o666 },
    { name: "dev/big", type: "block", devmajor: 259, devminor: 70000 },
    { name: "old", data: "x", mtime: { sec: -100, nsec: 250_000_000 } },
  ]);

  it("reads back what it writes, whatever the chunk sizes", async () => {
    for (const chunk of [tar.length, 511, 1]) {
      const got = await records(tar, chunk);
      expect(got.map((r) => r.entry.name)).toEqual([
        `${longDir}/`,
        `${longDir}/file-in-prefix-split`,
        longest,
        "link",
        "hard",
        "caps",
        latin1(rawName),
        "dev/null",
        "dev/big",
        "old",
      ]);
      const [dir, split, big, link, hard, caps, , nul, blk, old] = got;
      expect(dir!.entry).toMatchObject({ type: "dir", mode: 0o2775 });
      expect(split!.data.toString()).toBe("split\n");
      expect(big!.entry).toMatchObject({ uid: 3_000_000, gid: 70_000_000, size: 3000, mtime: { sec: 1577836800, nsec: 123456789 } });
      expect(big!.data.equals(Buffer.alloc(3000, 7))).toBe(true);
      expect(link!.entry.linkname).toBe("t".repeat(300));
      expect(hard!.entry).toMatchObject({ type: "hardlink", linkname: longest, size: 0 });
      expect(caps!.entry.xattrs?.get("security.capability")).toEqual(CAP_NET_RAW);
      expect(caps!.entry.xattrs?.get("user.note")?.toString()).toBe("hi\n");
      expect(nul!.entry).toMatchObject({ type: "char", devmajor: 1, devminor: 3, mode: 0o666 });
      expect(blk!.entry).toMatchObject({ type: "block", devmajor: 259, devminor: 70000 });
      expect(old!.entry.mtime).toEqual({ sec: -100, nsec: 250_000_000 });
    }
  });

  it("writes archives GNU tar lists and extracts, xattrs included", async () => {
    requireRoot();
    const dir = await tempDir();
    writeFileSync(join(dir, "layer.tar"), tar);
    const listed = (await run("tar", ["--quoting-style=literal", "-tf", join(dir, "layer.tar")], { encoding: "latin1" })).stdout.trim().split("\n");
    expect(listed).toContain(longest);
    expect(listed).toContain(latin1(rawName));
    const out = join(dir, "x");
    mkdirSync(out);
    await run("tar", ["--xattrs", "--xattrs-include=*", "-xpf", join(dir, "layer.tar"), "-C", out]);
    expect(readFileSync(join(out, `${longDir}/file-in-prefix-split`), "utf8")).toBe("split\n");
    expect(lstatSync(join(out, longest)).uid).toBe(3_000_000);
    expect(lstatSync(join(out, "hard")).ino).toBe(lstatSync(join(out, longest)).ino);
    expect(lgetxattr(join(out, "caps"), "user.note")?.toString()).toBe("hi\n");
    expect(lgetxattr(join(out, "caps"), "security.capability")).toEqual(CAP_NET_RAW);
    expect(readdirSync(out, { encoding: "buffer" }).some((n) => n.equals(rawName))).toBe(true);
  });

  it("reads GNU tar's pax (xattrs) and gnu (long names 'L'/'K', base-256 ids) formats", async () => {
    requireRoot();
    const dir = await tempDir();
    const src = join(dir, "src");
    const deep = join(src, "n".repeat(90), "m".repeat(90));
    mkdirSync(deep, { recursive: true });
    const file = join(deep, "f".repeat(60));
    writeFileSync(file, "deep\n");
    chownSync(file, 3_000_000, 3_000_001);
    lsetxattr(file, "user.colour", Buffer.from("blue"));
    lsetxattr(file, "trusted.secret", Buffer.from([0, 1, 2]));
    await run("ln", ["-s", "s".repeat(150), join(src, "longlink")]);
    const rel = file.slice(src.length + 1);
    for (const format of ["posix", "gnu"]) {
      const archive = join(dir, `${format}.tar`);
      await run("tar", [`--format=${format}`, "--xattrs", "--xattrs-include=*", "-cf", archive, "-C", src, "."]);
      const got = await records(readFileSync(archive), 700);
      const f = got.find((r) => r.entry.name === `./${rel}`);
      expect(f, format).toBeDefined();
      expect(f!.entry).toMatchObject({ type: "file", uid: 3_000_000, gid: 3_000_001, size: 5 });
      expect(f!.data.toString()).toBe("deep\n");
      expect(got.find((r) => r.entry.name === "./longlink")!.entry.linkname).toBe("s".repeat(150));
      if (format === "posix") {
        expect(f!.entry.xattrs?.get("user.colour")?.toString()).toBe("blue");
        expect(f!.entry.xattrs?.get("trusted.secret")).toEqual(Buffer.from([0, 1, 2]));
      }
    }
  });

  it("reads LIBARCHIVE.xattr records (name URL-encoded, value base64) and global 'g' headers", async () => {
    const body = buildTar([{ name: "f", data: "ok" }]);
    const tarWith = Buffer.concat([
      rawHeader("g", paxData([["uid", "42"]])),
      rawHeader("x", paxData([["LIBARCHIVE.xattr.user.a%3Db", Buffer.from([9, 8, 7]).toString("base64")], ["mtime", "1.5"]])),
      body,
    ]);
    const [f] = await records(tarWith);
    expect(f!.entry.xattrs?.get("user.a=b")).toEqual(Buffer.from([9, 8, 7]));
    expect(f!.entry.uid).toBe(42);
    expect(f!.entry.mtime).toEqual({ sec: 1, nsec: 500_000_000 });
  });

  it("fails on a truncated archive, a bad checksum and an unsupported entry type", async () => {
    const parse = (data: Buffer) => {
      const parser = new TarParser({ entry() {}, data() {}, end() {} });
      parser.push(data);
      parser.finish();
    };
    expect(() => parse(tar.subarray(0, 1000))).toThrow(TarFormatError);
    const bad = Buffer.from(tar);
    bad[0] = bad[0]! ^ 1;
    expect(() => parse(bad)).toThrow(/checksum/);
    expect(() => parse(rawHeader("S", Buffer.alloc(0)))).toThrow(/unsupported tar entry type 'S'/);
    // A stream that ends at a header boundary without the trailer is accepted, as Go's reader does.
    expect(() => parse(tar.subarray(0, 512 * 3))).not.toThrow();
  });
});

function paxData(records: [string, string][]): Buffer {
  return Buffer.concat(
    records.map(([k, v]) => {
      const base = Buffer.byteLength(k) + Buffer.byteLength(v) + 3;
      let len = base + String(base).length;
      if (String(len).length !== String(base).length) len = base + String(len).length;
      return Buffer.from(`${len} ${k}=${v}\n`);
    }),
  );
}

/** A header of type `flag` with `data`, built by hand (the writer never makes these). */
function rawHeader(flag: string, data: Buffer): Buffer {
  const h = Buffer.alloc(512);
  h.write("PaxHeaders/x", 0);
  h.write("0000644\0", 100);
  h.write("0000000\0", 108);
  h.write("0000000\0", 116);
  h.write(data.length.toString(8).padStart(11, "0") + "\0", 124);
  h.write("00000000000\0", 136);
  h.write(flag, 156);
  h.write("ustar\x0000", 257);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  const pad = (512 - (data.length % 512)) % 512;
  return Buffer.concat([h, data, Buffer.alloc(pad)]);
}
