import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLocalContentStore } from "@berth/content-local";
import type { ContentSharingPolicy } from "../src/index.js";
import { collect, expectError, ns, readAll, setup, sha256, tempDir, writeBlob } from "./helpers.js";

const A = ns("alpha");
const B = ns("beta");

/** The metadata store over the real local backend, both in one temp dir. */
async function withLocalBackend(policy: ContentSharingPolicy) {
  const root = join(await tempDir(), "content");
  const backend = await createLocalContentStore(root);
  const fx = await setup({ contentSharingPolicy: policy }, backend);
  return { ...fx, backend };
}

describe("over @berth/content-local", () => {
  it("shares a committed blob with another namespace without a second upload", async () => {
    const { store, backend } = await withLocalBackend("shared");
    const text = "a layer, written once";
    const digest = sha256(text);
    await writeBlob(store.content, A, "layer", text, { from: "alpha" });

    const w = await store.content.writer(B, { ref: "layer", total: text.length, expected: digest });
    expect((await w.status()).offset).toBe(text.length);
    expect(await backend.listStatuses(B, [])).toEqual([]); // no backend ingest was opened
    await w.commit(text.length, digest, { from: "beta" });

    expect(await readAll(store.content, B, digest)).toBe(text);
    expect((await store.content.info(A, digest)).labels).toEqual({ from: "alpha" });
    expect((await store.content.info(B, digest)).labels).toEqual({ from: "beta" });
    expect((await collect(backend.walk(A, []))).map((i) => i.digest)).toEqual([digest]);
  });

  it("makes an isolated namespace upload the bytes, then owns the existing blob", async () => {
    const { store, backend } = await withLocalBackend("isolated");
    const text = "isolated bytes";
    const digest = sha256(text);
    await writeBlob(store.content, A, "r", text);

    const w = await store.content.writer(B, { ref: "r", total: text.length, expected: digest });
    expect((await w.status()).offset).toBe(0);
    await w.write(Buffer.from(text));
    expect((await w.commit(text.length, digest)).digest).toBe(digest);
    expect(await readAll(store.content, B, digest)).toBe(text);
    expect(await backend.listStatuses(A, [])).toEqual([]); // the redundant upload was cleaned up
  });

  it("keeps two namespaces' ingests of one ref apart in the backend", async () => {
    const { store, backend } = await withLocalBackend("shared");
    const wa = await store.content.writer(A, { ref: "same" });
    const wb = await store.content.writer(B, { ref: "same" });
    await wa.write(Buffer.from("alpha"));
    await wb.write(Buffer.from("beta"));
    await wa.close();
    await wb.close();
    expect((await backend.listStatuses(A, [])).map((s) => s.ref).sort()).toEqual(["alpha/1/same", "beta/2/same"]);

    await store.content.abort(A, "same");
    expect((await backend.listStatuses(A, [])).map((s) => s.ref)).toEqual(["beta/2/same"]);
    expect(await store.content.status(B, "same")).toMatchObject({ ref: "same", offset: 4 });
    await expectError(store.content.status(A, "same"), "NotFound");
  });

  it("survives a restart of both stores, and reports unowned blobs for the collector", async () => {
    const { store, backend, reopen } = await withLocalBackend("shared");
    const { digest } = await writeBlob(store.content, A, "r", "kept across restarts");
    const half = await store.content.writer(A, { ref: "half" });
    await half.write(Buffer.from("half"));
    await half.close();

    const restarted = await reopen();
    expect(await readAll(restarted.content, A, digest)).toBe("kept across restarts");
    const resumed = await restarted.content.writer(A, { ref: "half" });
    expect((await resumed.status()).offset).toBe(4);
    await resumed.close();

    await restarted.content.delete(A, digest);
    expect((await backend.info(A, digest)).digest).toBe(digest); // bytes stay
    expect(await restarted.unreferencedContent()).toEqual({ blobs: [digest], ingests: [] });
  });
});
