import { execFile } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, writeSync } from "node:fs";
import { promisify } from "node:util";
import { join } from "node:path";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { beforeEach, describe, expect, it } from "vitest";
import { classOf } from "@berth/core";
import {
  createWalkingDiffer,
  LABEL_UNCOMPRESSED,
  MEDIA_TYPE_LAYER,
  MEDIA_TYPE_LAYER_GZIP,
  MEDIA_TYPE_LAYER_ZSTD,
} from "../src/index.js";
import { ctx, newContentStore, sha256, storeBlob } from "./content.js";
import { bindRoot } from "./layers.js";
import { buildTar } from "./tar-builder.js";
import { requireRoot, tempDir } from "./temp.js";

const tar = buildTar([{ name: "etc/" }, { name: "etc/hostname", data: "box\n" }]);
const diffId = sha256(tar);

async function setup() {
  const store = await newContentStore();
  return { store, differ: createWalkingDiffer({ content: store }), ...(await bindRoot()) };
}

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a failure");
}

describe("apply: media types and verification", () => {
  beforeEach(() => requireRoot());

  it("reads gzip, zstd and uncompressed layers and returns the diff ID", async () => {
    for (const [mediaType, blob] of [
      [MEDIA_TYPE_LAYER_GZIP, gzipSync(tar)],
      [MEDIA_TYPE_LAYER_ZSTD, zstdCompressSync(tar)],
      [MEDIA_TYPE_LAYER, tar],
      ["application/vnd.docker.image.rootfs.diff.tar.gzip", gzipSync(tar)],
    ] as const) {
      const { store, differ, root, mounts } = await setup();
      const desc = await storeBlob(store, blob, mediaType, { [LABEL_UNCOMPRESSED]: diffId });
      expect(await differ.apply(ctx, desc, mounts)).toEqual({ mediaType: MEDIA_TYPE_LAYER, digest: diffId, size: tar.length });
      expect(readdirSync(join(root, "etc"))).toEqual(["hostname"]);
    }
  });

  it("fails clearly when the uncompressed digest is not the expected diff ID (label or annotation)", async () => {
    const { store, differ, mounts } = await setup();
    const wrong = sha256(Buffer.from("something else"));
    const desc = await storeBlob(store, gzipSync(tar), MEDIA_TYPE_LAYER_GZIP, { [LABEL_UNCOMPRESSED]: wrong });
    const err = await failure(differ.apply(ctx, desc, mounts));
    expect(classOf(err)).toBe("FailedPrecondition");
    expect(err.message).toContain(`apply layer ${desc.digest}`);
    expect(err.message).toContain(`has digest ${diffId}, expected ${wrong}`);
    const annotated = { ...desc, annotations: { [LABEL_UNCOMPRESSED]: wrong } };
    const { store: s2, differ: d2, mounts: m2 } = await setup();
    await storeBlob(s2, gzipSync(tar), MEDIA_TYPE_LAYER_GZIP);
    expect(classOf(await failure(d2.apply(ctx, annotated, m2)))).toBe("FailedPrecondition");
  });

  it("fails on truncated or corrupt gzip with DataLoss", async () => {
    const { store, differ, mounts } = await setup();
    const gz = gzipSync(Buffer.concat([tar, Buffer.alloc(64 * 1024, 1)]));
    const truncated = await storeBlob(store, gz.subarray(0, gz.length - 20), MEDIA_TYPE_LAYER_GZIP);
    const err = await failure(differ.apply(ctx, truncated, mounts));
    expect(classOf(err)).toBe("DataLoss");
    expect(err.message).toMatch(/unexpected end of file/);
    const corrupt = Buffer.from(gzipSync(tar));
    corrupt[20] = corrupt[20]! ^ 0xff;
    const bad = await storeBlob(store, corrupt, MEDIA_TYPE_LAYER_GZIP);
    expect(classOf(await failure(differ.apply(ctx, bad, mounts)))).toBe("DataLoss");
  });

  it("fails on a tar cut short inside a valid gzip stream with DataLoss", async () => {
    const { store, differ, mounts } = await setup();
    const cut = await storeBlob(store, gzipSync(tar.subarray(0, 700)), MEDIA_TYPE_LAYER_GZIP);
    const err = await failure(differ.apply(ctx, cut, mounts));
    expect(classOf(err)).toBe("DataLoss");
    expect(err.message).toContain("unexpected end of the tar stream");
  });

  it("refuses unknown media types (NotImplemented), missing blobs (NotFound), no or read-only mounts", async () => {
    const { store, differ, mounts, root } = await setup();
    const desc = await storeBlob(store, gzipSync(tar), "application/vnd.example.layer+brotli");
    const unknown = await failure(differ.apply(ctx, desc, mounts));
    expect(classOf(unknown)).toBe("NotImplemented");
    expect(unknown.message).toContain("application/vnd.example.layer+brotli");
    const missing = { mediaType: MEDIA_TYPE_LAYER_GZIP, digest: sha256(Buffer.from("absent")), size: 6 };
    expect(classOf(await failure(differ.apply(ctx, missing, mounts)))).toBe("NotFound");
    const ok = { ...desc, mediaType: MEDIA_TYPE_LAYER_GZIP };
    expect(classOf(await failure(differ.apply(ctx, ok, [])))).toBe("InvalidArgument");
    const ro = [{ type: "bind", source: root, options: ["rbind", "ro"] }];
    expect(classOf(await failure(differ.apply(ctx, ok, ro)))).toBe("FailedPrecondition");
  });

  it("stops when the caller's signal aborts (Canceled)", async () => {
    const { store, differ, mounts } = await setup();
    const desc = await storeBlob(store, gzipSync(tar), MEDIA_TYPE_LAYER_GZIP);
    const err = await failure(differ.apply({ ...ctx, signal: AbortSignal.abort() }, desc, mounts));
    expect(classOf(err)).toBe("Canceled");
  });

  it("refuses sparse files (GNU 'S' entries, PAX GNU.sparse records) as NotImplemented", async () => {
    const { store, differ, mounts } = await setup();
    const dir = await tempDir();
    const src = join(dir, "src");
    mkdirSync(src);
    const fd = openSync(join(src, "holes"), "w");
    writeSync(fd, "end", 8 * 1024 * 1024);
    closeSync(fd);
    for (const format of ["gnu", "posix"]) {
      await promisify(execFile)("tar", [`--format=${format}`, "--sparse", "-czf", join(dir, `${format}.tgz`), "-C", src, "holes"]);
      const desc = await storeBlob(store, readFileSync(join(dir, `${format}.tgz`)), MEDIA_TYPE_LAYER_GZIP);
      const err = await failure(differ.apply(ctx, desc, mounts));
      expect(classOf(err), format).toBe("NotImplemented");
      expect(err.message).toMatch(/sparse|unsupported tar entry type 'S'/);
    }
  });
});
