import { readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { blob, ctx, errorClassOf, newStore, readAll, writeBlob } from "./helpers.js";

const BAD_DIGESTS = [
  "",
  "sha256:",
  "sha256:../../x",
  "sha256:../../../../etc/passwd",
  `sha256:${"a".repeat(63)}`,
  `sha256:${"a".repeat(65)}`,
  `sha256:${"A".repeat(64)}`,
  `sha256:${"a".repeat(63)}/`,
  `sha256:${"a".repeat(64)}\n`,
  `sha512:${"a".repeat(128)}`,
  `md5:${"a".repeat(32)}`,
  "a".repeat(64),
];

describe("validation", () => {
  it("every digest argument must be sha256:<64 lowercase hex>", async () => {
    const { store, root } = await newStore();
    // The store's parent is the shared temp dir: only what appears during the test counts.
    const outside = async () => (await readdir(dirname(root))).filter((n) => n === "x");
    const before = await outside();
    for (const digest of BAD_DIGESTS) {
      expect(await errorClassOf(store.info(ctx, digest)), digest).toBe("InvalidArgument");
      expect(await errorClassOf(store.delete(ctx, digest)), digest).toBe("InvalidArgument");
      expect(await errorClassOf(readAll(store.read(ctx, digest))), digest).toBe("InvalidArgument");
      expect(await errorClassOf(store.update(ctx, { digest, labels: {} }, []))).toBe("InvalidArgument");
      if (digest !== "") {
        expect(await errorClassOf(store.writer(ctx, { ref: "r", expected: digest }))).toBe("InvalidArgument");
      }
    }
    const w = await store.writer(ctx, { ref: "r" });
    await w.write(Buffer.from("x"));
    expect(await errorClassOf(w.commit(1, "sha256:../../x"))).toBe("InvalidArgument");
    // Nothing was created outside the store.
    expect(await outside()).toEqual(before);
  });

  it("refs are hashed into directory names, so any ref is safe; an empty ref is InvalidArgument", async () => {
    const { store, root } = await newStore();
    for (const ref of ["../../escape", "/abs/path", "a/b/c", "..", "nul\0byte"]) {
      const w = await store.writer(ctx, { ref });
      await w.write(Buffer.from(ref));
      await w.close();
      expect((await store.status(ctx, ref)).ref).toBe(ref);
      await store.abort(ctx, ref);
    }
    expect(await readdir(join(root, "ingest"))).toEqual([]);
    expect((await readdir(root)).sort()).toEqual(["blobs", "ingest"]);
    expect(await errorClassOf(store.writer(ctx, { ref: "" }))).toBe("InvalidArgument");
    expect(await errorClassOf(store.status(ctx, ""))).toBe("InvalidArgument");
  });

  it("sizes and offsets must be non-negative integers", async () => {
    const { store } = await newStore();
    const { data, digest } = blob(10);
    await writeBlob(store, "v", data);
    expect(await errorClassOf(store.writer(ctx, { ref: "t", total: -1 }))).toBe("InvalidArgument");
    expect(await errorClassOf(readAll(store.read(ctx, digest, { size: 1.5 })))).toBe("InvalidArgument");
    const w = await store.writer(ctx, { ref: "t" });
    expect(await errorClassOf(w.truncate(-1))).toBe("InvalidArgument");
    await w.close();
  });
});
