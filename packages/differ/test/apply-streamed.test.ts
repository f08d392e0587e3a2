import { randomBytes } from "node:crypto";
import { existsSync, lstatSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { beforeEach, describe, expect, it } from "vitest";
import { classOf, type ApplyOptions } from "@berth/core";
import { createWalkingDiffer, LABEL_UNCOMPRESSED, MEDIA_TYPE_LAYER_GZIP } from "../src/index.js";
import { ctx, newContentStore, sha256, storeBlob } from "./content.js";
import { bindRoot, newBench } from "./layers.js";
import { buildTar, type EntrySpec } from "./tar-builder.js";
import { requireRoot } from "./temp.js";

const T = (sec: number) => ({ sec, nsec: 0 });
const big = (n: number) => randomBytes(n);

/** `data` in pieces of `size` bytes, each a fresh buffer, handed out asynchronously as a download would. */
async function* pieces(data: Buffer, size: number, fail?: { at: number; error: Error }): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += size) {
    if (fail && at >= fail.at) throw fail.error;
    await new Promise((resolve) => setImmediate(resolve));
    yield Buffer.from(data.subarray(at, at + size));
  }
}

describe("apply: large files written on the thread pool", () => {
  beforeEach(() => requireRoot());

  it("gives every file its bytes and attributes, with hardlinks to and replacements of files still being written", async () => {
    const { root, mounts } = await bindRoot();
    const bench = await newBench();
    const a = big(3 * 1024 * 1024 + 17);
    const b = big(200 * 1024);
    const c = big(5 * 1024 * 1024);
    const entries: EntrySpec[] = [
      { name: "data/" },
      { name: "data/a", data: a, mode: 0o4750, uid: 1000, gid: 1000, mtime: T(1000) },
      // A hardlink right behind its target's data: its attributes win, set after the data.
      { name: "data/a-link", type: "hardlink", linkname: "data/a", mode: 0o640, uid: 7, gid: 8, mtime: T(2000) },
      { name: "data/b", data: b, mtime: T(3000) },
      // The same name again: the second file replaces the first, whose writes may still be in flight.
      { name: "data/b", data: c, mode: 0o600, mtime: T(4000) },
      { name: "data/small", data: "tiny", mtime: T(5000) },
      { name: "data/c", data: c, mtime: T(6000) },
    ];
    const desc = await bench.apply(mounts, entries);
    expect(desc.digest).toBe(sha256(buildTar(entries)));
    const st = (name: string) => lstatSync(join(root, "data", name));
    expect(readFileSync(join(root, "data/a")).equals(a)).toBe(true);
    expect([st("a").ino, st("a").mode & 0o7777, st("a").uid, st("a").gid, st("a").mtimeMs]).toEqual([st("a-link").ino, 0o640, 7, 8, 2000_000]);
    expect(readFileSync(join(root, "data/b")).equals(c)).toBe(true);
    expect([st("b").mode & 0o7777, st("b").mtimeMs, st("b").nlink]).toEqual([0o600, 4000_000, 1]);
    expect(readFileSync(join(root, "data/c")).equals(c)).toBe(true);
    expect(st("c").mtimeMs).toBe(6000_000);
    expect(readFileSync(join(root, "data/small"), "utf8")).toBe("tiny");
  });
});

describe("apply: from a byte stream instead of the content store", () => {
  beforeEach(() => requireRoot());

  const entries: EntrySpec[] = [
    { name: "etc/" },
    { name: "etc/big", data: big(4 * 1024 * 1024 + 3) },
    { name: "etc/hostname", data: "box\n" },
    { name: "etc/link", type: "symlink", linkname: "hostname" },
  ];
  const tar = buildTar(entries);
  const blob = gzipSync(tar);
  const desc = { mediaType: MEDIA_TYPE_LAYER_GZIP, digest: sha256(blob), size: blob.length, annotations: { [LABEL_UNCOMPRESSED]: sha256(tar) } };

  it("is a capability of Berth's differ", async () => {
    expect(createWalkingDiffer({ content: await newContentStore() }).readsApplySource).toBe(true);
  });

  it("gives the same tree as applying the stored blob, before the blob is in the store", async () => {
    const differ = createWalkingDiffer({ content: await newContentStore() }); // empty: the blob is not there
    const streamed = await bindRoot();
    const opts: ApplyOptions = { source: pieces(blob, 16 * 1024) };
    expect((await differ.apply(ctx, desc, streamed.mounts, opts)).digest).toBe(sha256(tar));

    const store = await newContentStore();
    await storeBlob(store, blob, MEDIA_TYPE_LAYER_GZIP);
    const stored = await bindRoot();
    await createWalkingDiffer({ content: store }).apply(ctx, desc, stored.mounts);
    for (const name of ["big", "hostname"]) {
      expect(readFileSync(join(streamed.root, "etc", name)).equals(readFileSync(join(stored.root, "etc", name)))).toBe(true);
    }
    expect(readdirSync(join(streamed.root, "etc")).sort()).toEqual(readdirSync(join(stored.root, "etc")).sort());
  });

  it("fails with the stream's error when the stream breaks, and checks the diff ID of what it read", async () => {
    const differ = createWalkingDiffer({ content: await newContentStore() });
    const { mounts } = await bindRoot();
    const broken: ApplyOptions = { source: pieces(blob, 64 * 1024, { at: blob.length / 2, error: new Error("connection reset") }) };
    const err = await differ.apply(ctx, desc, mounts, broken).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain("connection reset");

    const wrong = { ...desc, annotations: { [LABEL_UNCOMPRESSED]: sha256(Buffer.from("other")) } };
    const other = await bindRoot();
    const mismatch = await differ.apply(ctx, wrong, other.mounts, { source: pieces(blob, 1 << 20) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(classOf(mismatch)).toBe("FailedPrecondition");
    expect(existsSync(join(other.root, "etc/hostname"))).toBe(true); // the caller discards the snapshot
  });
});
