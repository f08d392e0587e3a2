import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { bindRoot, newBench } from "./layers.js";
import type { EntrySpec } from "./tar-builder.js";
import { requireRoot, tempDir } from "./temp.js";

/** Enough small files that batches are in flight while the entries after them are parsed. */
function smallFiles(dir: string, n: number, text = "v1"): EntrySpec[] {
  return Array.from({ length: n }, (_, i) => ({ name: `${dir}/f${String(i).padStart(4, "0")}`, data: `${text} ${i}\n`, uid: i % 3, mode: 0o640 }));
}

describe("small files created in batches", () => {
  beforeEach(() => requireRoot());

  it("gives every small file its bytes, owner and mode, and later entries of the same name win", async () => {
    const { root, mounts } = await bindRoot();
    const bench = await newBench();
    await bench.apply(mounts, [
      { name: "a/" },
      ...smallFiles("a", 300),
      // The same names again while earlier batches may still be running: the last entry wins.
      { name: "a/f0001", data: "second\n", mode: 0o600 },
      { name: "a/f0002", type: "symlink", linkname: "f0001" },
      { name: "a/f0003/" },
      { name: "a/f0003/inside", data: "in a dir that replaced a file\n" },
      { name: "a/f0299", type: "hardlink", linkname: "a/f0000" },
      ...smallFiles("b", 150),
    ]);
    expect(readdirSync(join(root, "a")).length).toBe(300);
    expect(readFileSync(join(root, "a/f0010"), "utf8")).toBe("v1 10\n");
    const st = lstatSync(join(root, "a/f0010"));
    expect([st.uid, st.mode & 0o777, st.mtimeMs]).toEqual([1, 0o640, 1577836800000]);
    expect(readFileSync(join(root, "a/f0001"), "utf8")).toBe("second\n");
    expect(lstatSync(join(root, "a/f0001")).mode & 0o777).toBe(0o600);
    expect(readlinkSync(join(root, "a/f0002"))).toBe("f0001");
    expect(readFileSync(join(root, "a/f0003/inside"), "utf8")).toBe("in a dir that replaced a file\n");
    expect(lstatSync(join(root, "a/f0299")).ino).toBe(lstatSync(join(root, "a/f0000")).ino);
    expect(readdirSync(join(root, "b")).length).toBe(150);
    expect(readFileSync(join(root, "b/f0149"), "utf8")).toBe("v1 149\n");
  });

  it("replaces files already in the root (applied onto a parent's tree) with the layer's", async () => {
    const { root, mounts } = await bindRoot();
    mkdirSync(join(root, "etc"));
    for (let i = 0; i < 200; i += 2) if (i !== 100) writeFileSync(join(root, "etc", `f${String(i).padStart(4, "0")}`), "from the parent\n", { mode: 0o666 });
    mkdirSync(join(root, "etc/f0100")); // a directory where the layer has a file
    writeFileSync(join(root, "etc/f0100/below"), "x");
    const bench = await newBench();
    await bench.apply(mounts, [{ name: "etc/" }, ...smallFiles("etc", 200, "layer")]);
    for (const i of [0, 1, 100, 198, 199]) {
      const p = join(root, "etc", `f${String(i).padStart(4, "0")}`);
      expect(readFileSync(p, "utf8")).toBe(`layer ${i}\n`);
      expect(lstatSync(p).mode & 0o777).toBe(0o640);
    }
  });

  it("refuses an entry below a small file still in a batch, as it refuses one below any file", async () => {
    const { root, mounts } = await bindRoot();
    const bench = await newBench();
    const applying = bench.apply(mounts, [{ name: "x/" }, ...smallFiles("x", 10), { name: "x/f0003/below", data: "no\n" }]);
    await expect(applying).rejects.toThrow(/entry "x\/f0003\/below".*not a directory/);
    expect(lstatSync(join(root, "x/f0003")).isFile()).toBe(true);
  });

  it("never writes through a directory swapped for a symlink to the host while batches run", async () => {
    const base = await tempDir();
    const host = join(base, "host-dir");
    mkdirSync(host);
    const { root, mounts } = await bindRoot();
    const bench = await newBench();
    const applying = bench.apply(mounts, [
      { name: "d/" },
      ...smallFiles("d", 200),
      { name: "d", type: "symlink", linkname: host },
      { name: "d/pwned", data: "escaped\n" },
    ]);
    await expect(applying).rejects.toThrow(/entry "d\/pwned"/);
    expect(readdirSync(host)).toEqual([]);
    expect(readlinkSync(join(root, "d"))).toBe(host);
  });

  it("makes symlinks in batches too: owner and times, the same name twice, one where a file was, none followed while pending", async () => {
    const base = await tempDir();
    const host = join(base, "host-dir");
    mkdirSync(host);
    const { root, mounts } = await bindRoot();
    // Applied onto a tree that already has a file where the layer puts a link.
    mkdirSync(join(root, "l"));
    writeFileSync(join(root, "l/was-a-file"), "old\n");
    const bench = await newBench();
    const links: EntrySpec[] = Array.from({ length: 300 }, (_, i) => ({ name: `l/s${i}`, type: "symlink", linkname: `../t/${i}`, uid: i % 4, gid: 9 }));
    await bench.apply(mounts, [
      { name: "l/" },
      ...links,
      { name: "l/s7", type: "symlink", linkname: "second" },
      { name: "l/was-a-file", type: "symlink", linkname: "now-a-link" },
    ]);
    expect(readdirSync(join(root, "l")).length).toBe(301);
    const st = lstatSync(join(root, "l/s10"));
    expect([st.isSymbolicLink(), st.uid, st.gid, st.mtimeMs]).toEqual([true, 2, 9, 1577836800000]);
    expect(readlinkSync(join(root, "l/s10"))).toBe("../t/10");
    expect(readlinkSync(join(root, "l/s7"))).toBe("second");
    expect(readlinkSync(join(root, "l/was-a-file"))).toBe("now-a-link");

    // A link to the host still in a batch, then a file below it: refused, the host untouched.
    const { mounts: mounts2 } = await bindRoot();
    const escaping = bench.apply(mounts2, [...links.slice(0, 100), { name: "out", type: "symlink", linkname: host }, { name: "out/pwned", data: "escaped\n" }]);
    await expect(escaping).rejects.toThrow(/entry "out\/pwned"/);
    expect(readdirSync(host)).toEqual([]);
  });

  it("creates empty files that arrive while the batches are full or must drain (none is lost)", async () => {
    const { root, mounts } = await bindRoot();
    const bench = await newBench();
    const empty = (dir: string, n: number): EntrySpec[] => Array.from({ length: n }, (_, i) => ({ name: `${dir}/e${i}`, data: "" }));
    await bench.apply(mounts, [
      { name: "e/" },
      ...empty("e", 2000),
      { name: "r/" },
      ...smallFiles("r", 100),
      // An empty file replacing one still in a batch: applied after a drain, and emptied.
      { name: "r/f0050", data: "" },
    ]);
    expect(readdirSync(join(root, "e")).length).toBe(2000);
    expect(readFileSync(join(root, "r/f0050"), "utf8")).toBe("");
    expect(readFileSync(join(root, "r/f0051"), "utf8")).toBe("v1 51\n");
  });
});
