import { lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { classOf, type Mount } from "@berth/core";
import { createWalkingDiffer, MEDIA_TYPE_LAYER_GZIP } from "../src/index.js";
import { ctx, newContentStore, storeBlob } from "./content.js";
import { bindMount } from "./multi.js";
import { gzipTar, type EntrySpec } from "./tar-builder.js";
import { requireRoot, tempDir } from "./temp.js";

interface Sandbox {
  root: string;
  sentinel: string;
  /** The sentinel dir as a path relative to the root, climbing out with "..". */
  sentinelFromRoot: string;
  mounts: Mount[];
}

/** A root to apply into and, beside it, a sentinel directory that must never change. */
async function sandbox(mode: "bind" | "overlay"): Promise<Sandbox> {
  const base = await tempDir();
  const sentinel = join(base, "host-dir");
  mkdirSync(sentinel);
  writeFileSync(join(sentinel, "keep"), "host data\n");
  const root = join(base, "root");
  mkdirSync(join(root, "deep/er"), { recursive: true });
  let mounts: Mount[] = [bindMount(root)];
  if (mode === "overlay") {
    const lower = join(base, "lower");
    mkdirSync(lower);
    mkdirSync(join(base, "work"));
    mounts = [{ type: "overlay", source: "overlay", options: [`workdir=${join(base, "work")}`, `upperdir=${root}`, `lowerdir=${lower}`] }];
  }
  return { root, sentinel, sentinelFromRoot: relative(root, sentinel), mounts };
}

function expectUntouched(s: Sandbox): void {
  expect(readdirSync(s.sentinel)).toEqual(["keep"]);
  expect(readFileSync(join(s.sentinel, "keep"), "utf8")).toBe("host data\n");
  expect(lstatSync(join(s.sentinel, "keep")).nlink).toBe(1);
}

/** Applies a layer of `entries` and returns the error it must fail with. */
async function applyFails(s: Sandbox, layers: EntrySpec[][]): Promise<Error> {
  const store = await newContentStore();
  const differ = createWalkingDiffer({ content: store });
  for (const [i, entries] of layers.entries()) {
    const desc = await storeBlob(store, gzipTar(entries), MEDIA_TYPE_LAYER_GZIP);
    const last = i === layers.length - 1;
    const result = differ.apply(ctx, desc, s.mounts);
    if (!last) {
      await result;
      continue;
    }
    try {
      await result;
    } catch (err) {
      return err as Error;
    }
  }
  throw new Error("the hostile layer was applied");
}

describe.each(["bind", "overlay"] as const)("hostile layers (%s)", (mode) => {
  beforeEach(() => requireRoot());

  it("refuses an entry that climbs out with ..", async () => {
    const s = await sandbox(mode);
    const err = await applyFails(s, [[{ name: "deep/../../" + s.sentinelFromRoot + "/keep", data: "pwned" }]]);
    expect(classOf(err)).toBe("InvalidArgument");
    expect(err.message).toContain(`entry "deep/../../${s.sentinelFromRoot}/keep"`);
    expectUntouched(s);
  });

  it("refuses ../../etc/x", async () => {
    const s = await sandbox(mode);
    const etcBefore = readdirSync("/etc").sort();
    const err = await applyFails(s, [[{ name: "../../etc/x", data: "pwned" }]]);
    expect(err.message).toContain('entry "../../etc/x"');
    expect(readdirSync("/etc").sort()).toEqual(etcBefore);
  });

  it("refuses an absolute name", async () => {
    const s = await sandbox(mode);
    const err = await applyFails(s, [[{ name: `${s.sentinel}/keep`, data: "pwned" }]]);
    expect(classOf(err)).toBe("InvalidArgument");
    expect(err.message).toContain(`entry "${s.sentinel}/keep"`);
    expectUntouched(s);
  });

  it("refuses to write through a symlink to a host directory (evil -> /host-dir, then evil/file)", async () => {
    const s = await sandbox(mode);
    const err = await applyFails(s, [[{ name: "evil", type: "symlink", linkname: s.sentinel }, { name: "evil/file", data: "pwned" }]]);
    expect(classOf(err)).toBe("InvalidArgument");
    expect(err.message).toContain('entry "evil/file"');
    expectUntouched(s);
  });

  it("refuses to write through a relative symlink that climbs out", async () => {
    const s = await sandbox(mode);
    const err = await applyFails(s, [
      [{ name: "deep/er/evil", type: "symlink", linkname: `../../${s.sentinelFromRoot}` }, { name: "deep/er/evil/keep", data: "pwned" }],
    ]);
    expect(err.message).toContain('entry "deep/er/evil/keep"');
    expectUntouched(s);
  });

  it("refuses a hardlink to /etc/passwd", async () => {
    const s = await sandbox(mode);
    const before = lstatSync("/etc/passwd");
    const err = await applyFails(s, [[{ name: "passwd", type: "hardlink", linkname: "/etc/passwd" }]]);
    expect(classOf(err)).toBe("InvalidArgument");
    expect(err.message).toContain('entry "passwd"');
    expect(err.message).toContain("/etc/passwd");
    expect(lstatSync("/etc/passwd").nlink).toBe(before.nlink);
    expect(lstatSync(join(s.root, "passwd"), { throwIfNoEntry: false })).toBeUndefined();
  });

  it("refuses hardlinks that reach out by .. or through a symlink", async () => {
    const s = await sandbox(mode);
    const err = await applyFails(s, [[{ name: "keep", type: "hardlink", linkname: `../${s.sentinelFromRoot.replace(/^\.\.\//, "")}/keep` }]]);
    expect(err.message).toContain('entry "keep"');
    const err2 = await applyFails(s, [[{ name: "out", type: "symlink", linkname: s.sentinel }, { name: "keep2", type: "hardlink", linkname: "out/keep" }]]);
    expect(err2.message).toContain('entry "keep2"');
    expectUntouched(s);
  });

  it("refuses a whiteout of something outside (../.wh.outside, .wh..., through a symlink)", async () => {
    const s = await sandbox(mode);
    const up = await applyFails(s, [[{ name: `../.wh.${s.sentinelFromRoot.split("/").at(-1)}` }]]);
    expect(up.message).toContain("entry \"../.wh.");
    const dots = await applyFails(s, [[{ name: "deep/.wh..." }]]);
    expect(dots.message).toContain('entry "deep/.wh..."');
    const via = await applyFails(s, [[{ name: "w", type: "symlink", linkname: s.sentinel }, { name: "w/.wh.keep" }]]);
    expect(via.message).toContain('entry "w/.wh.keep"');
    const opq = await applyFails(s, [[{ name: "o", type: "symlink", linkname: s.sentinel }, { name: "o/.wh..wh..opq" }]]);
    expect(opq.message).toContain('entry "o/.wh..wh..opq"');
    expectUntouched(s);
  });
});

describe("hostile layers over earlier layers", () => {
  beforeEach(() => requireRoot());

  it("refuses to write through a symlink an earlier layer left in the same directory", async () => {
    const s = await sandbox("bind");
    const err = await applyFails(s, [[{ name: "lib", type: "symlink", linkname: s.sentinel }], [{ name: "lib/new", data: "pwned" }]]);
    expect(err.message).toMatch(/entry "lib\/new": "lib" is a symlink to ".*host-dir", outside the root/);
    expectUntouched(s);
  });

  it("over an overlay lower's symlink, writes into the upper dir (the symlink is not followed)", async () => {
    const base = await tempDir();
    const sentinel = join(base, "host-dir");
    mkdirSync(sentinel);
    writeFileSync(join(sentinel, "keep"), "host data\n");
    const [lower, upper, work] = ["lower", "upper", "work"].map((d) => join(base, d));
    for (const d of [lower!, upper!, work!]) mkdirSync(d);
    symlinkSync(sentinel, join(lower!, "lib"));
    const store = await newContentStore();
    const differ = createWalkingDiffer({ content: store });
    const desc = await storeBlob(store, gzipTar([{ name: "lib/new", data: "inside" }]), MEDIA_TYPE_LAYER_GZIP);
    await differ.apply(ctx, desc, [{ type: "overlay", source: "overlay", options: [`workdir=${work}`, `upperdir=${upper}`, `lowerdir=${lower}`] }]);
    expect(readFileSync(join(upper!, "lib/new"), "utf8")).toBe("inside");
    expect(readdirSync(sentinel)).toEqual(["keep"]);
  });
});
