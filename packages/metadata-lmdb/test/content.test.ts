import { describe, expect, it } from "vitest";
import { collect, expectError, ns, readAll, setup, sha256, writeBlob } from "./helpers.js";

const A = ns("alpha");
const B = ns("beta");

describe("namespaced content", () => {
  it("writes, commits, reads and describes a blob in its namespace only", async () => {
    const { store, backend } = await setup();
    const info = await writeBlob(store.content, A, "ref-1", "hello world", { "containerd.io/distribution.source": "x" });
    expect(info).toMatchObject({ digest: sha256("hello world"), size: 11, labels: { "containerd.io/distribution.source": "x" } });
    expect(await store.content.info(A, info.digest)).toEqual(info);
    expect(await readAll(store.content, A, info.digest)).toBe("hello world");
    expect(Buffer.concat(await collect(store.content.read(A, info.digest, { offset: 6, size: 3 }))).toString()).toBe("wor");
    expect(backend.blobs.has(info.digest)).toBe(true);

    await expectError(store.content.info(B, info.digest), "NotFound");
    await expectError(collect(store.content.read(B, info.digest)), "NotFound");
    expect(await collect(store.content.walk(B, []))).toEqual([]);
    expect(await store.content.listStatuses(A, [])).toEqual([]); // the ingest is gone after commit
  });

  it("shares a blob committed elsewhere without re-upload (policy shared)", async () => {
    const { store, backend } = await setup({ contentSharingPolicy: "shared" });
    const text = "shared layer bytes";
    const digest = sha256(text);
    await writeBlob(store.content, A, "layer", text, { owner: "alpha" });
    const uploaded = backend.bytesWritten;

    const w = await store.content.writer(B, { ref: "layer", total: text.length, expected: digest });
    const status = await w.status();
    expect(status).toMatchObject({ ref: "layer", offset: text.length, total: text.length, expected: digest });
    expect(await store.content.status(B, "layer")).toMatchObject({ offset: text.length, expected: digest });
    expect(w.digest()).toBe(digest);
    expect(await w.write(new Uint8Array())).toBe(text.length);
    const info = await w.commit(text.length, digest, { owner: "beta" });

    expect(info).toMatchObject({ digest, size: text.length, labels: { owner: "beta" } });
    expect(backend.bytesWritten).toBe(uploaded);
    expect(await readAll(store.content, B, digest)).toBe(text);
    // Labels are per namespace.
    expect((await store.content.info(A, digest)).labels).toEqual({ owner: "alpha" });
    expect((await store.content.info(B, digest)).labels).toEqual({ owner: "beta" });
    expect(await store.content.listStatuses(B, [])).toEqual([]);

    // Now both own it: a writer for it in either namespace is AlreadyExists.
    await expectError(store.content.writer(B, { ref: "again", expected: digest }), "AlreadyExists");
    await expectError(store.content.writer(A, { ref: "again", expected: digest }), "AlreadyExists");
  });

  it("makes a shared writer check size and digest at commit", async () => {
    const { store } = await setup();
    const digest = (await writeBlob(store.content, A, "r", "twelve bytes")).digest;
    const w = await store.content.writer(B, { ref: "r", expected: digest });
    await expectError(w.commit(5, ""), "FailedPrecondition");
    await expectError(w.commit(0, sha256("other")), "FailedPrecondition");
    await expectError(store.content.info(B, digest), "NotFound");
    expect((await w.commit(0, "")).digest).toBe(digest);
  });

  it("does not share when the expected size disagrees", async () => {
    const { store, backend } = await setup();
    const digest = (await writeBlob(store.content, A, "r", "abc")).digest;
    const w = await store.content.writer(B, { ref: "r", expected: digest, total: 99 });
    expect((await w.status()).offset).toBe(0);
    await w.close();
    expect(backend.ingests.size).toBe(1);
  });

  it("turns a shared ingest into a real one when the client writes or truncates", async () => {
    const { store } = await setup();
    const original = await writeBlob(store.content, A, "r", "base");
    const w = await store.content.writer(B, { ref: "r", expected: original.digest });
    await w.write(Buffer.from("+more"));
    expect((await w.status()).offset).toBe("base+more".length);
    const info = await w.commit(0, "");
    expect(info.digest).toBe(sha256("base+more"));
    expect(await readAll(store.content, B, info.digest)).toBe("base+more");
    await expectError(store.content.info(B, original.digest), "NotFound");

    const t = await store.content.writer(B, { ref: "t", expected: original.digest });
    await t.truncate(2);
    await t.write(Buffer.from("ss"));
    expect((await t.commit(4, sha256("bass"))).digest).toBe(sha256("bass"));
  });

  it("keeps namespaces apart under policy isolated, unless a namespace is shareable", async () => {
    const { store, backend } = await setup({ contentSharingPolicy: "isolated" });
    const text = "secret bytes";
    const digest = sha256(text);
    await writeBlob(store.content, A, "r", text);
    const uploaded = backend.bytesWritten;

    const w = await store.content.writer(B, { ref: "r", total: text.length, expected: digest });
    expect((await w.status()).offset).toBe(0); // must prove it has the bytes
    await w.write(Buffer.from(text));
    const info = await w.commit(text.length, digest);
    expect(info.digest).toBe(digest);
    expect(backend.bytesWritten).toBe(uploaded + text.length);
    expect(backend.blobs.size).toBe(1);
    expect(backend.ingests.size).toBe(0);
    expect(await readAll(store.content, B, digest)).toBe(text);

    // A namespace labelled shareable shares even under isolated.
    await store.namespaces.create("public", { "containerd.io/namespace.shareable": "true" });
    const pub = await writeBlob(store.content, ns("public"), "r", "public bytes");
    const before = backend.bytesWritten;
    await writeBlob(store.content, ns("gamma"), "r", "public bytes");
    expect(backend.bytesWritten).toBe(before);
    expect((await store.content.info(ns("gamma"), pub.digest)).size).toBe(12);
  });

  it("updates labels per namespace by fieldpath", async () => {
    const { store } = await setup();
    const { digest } = await writeBlob(store.content, A, "r", "x", { a: "1", b: "2" });
    await writeBlob(store.content, B, "r", "x", { z: "9" });

    let info = await store.content.update(A, { digest, labels: { a: "10", c: "3" } }, ["labels.a", "labels.b", "labels.c"]);
    expect(info.labels).toEqual({ a: "10", c: "3" });
    info = await store.content.update(A, { digest, labels: { only: "1" } }, []);
    expect(info.labels).toEqual({ only: "1" });
    info = await store.content.update(A, { digest, labels: { l: "2" } }, ["labels"]);
    expect(info.labels).toEqual({ l: "2" });
    expect(info.updatedAt.getTime()).toBeGreaterThanOrEqual(info.createdAt.getTime());
    expect((await store.content.info(B, digest)).labels).toEqual({ z: "9" });

    await expectError(store.content.update(A, { digest, labels: {} }, ["size"]), "InvalidArgument");
    await expectError(store.content.update(A, { digest, labels: { k: "v".repeat(5000) } }, []), "InvalidArgument");
    await expectError(store.content.update(ns("gamma"), { digest, labels: {} }, []), "NotFound");
  });

  it("keeps refs apart: two namespaces use the same ref at once", async () => {
    const { store, backend } = await setup();
    const wa = await store.content.writer(A, { ref: "same" });
    const wb = await store.content.writer(B, { ref: "same" });
    await wa.write(Buffer.from("from alpha"));
    await wb.write(Buffer.from("from beta!!"));
    expect([...backend.ingests.keys()].sort()).toEqual(["alpha/1/same", "beta/2/same"]);
    expect(await store.content.status(A, "same")).toMatchObject({ ref: "same", offset: 10 });
    expect(await store.content.status(B, "same")).toMatchObject({ ref: "same", offset: 11 });
    expect((await store.content.listStatuses(A, [])).map((s) => s.ref)).toEqual(["same"]);

    // The same ref in one namespace is locked while a writer holds it.
    await expectError(store.content.writer(A, { ref: "same" }), "Unavailable");
    await expectError(store.content.abort(A, "same"), "Unavailable");
    await wa.close();
    await store.content.abort(A, "same");
    await expectError(store.content.status(A, "same"), "NotFound");
    await expectError(store.content.abort(A, "same"), "NotFound");
    expect(await store.content.status(B, "same")).toMatchObject({ offset: 11 });

    const info = await wb.commit(0, "");
    expect(await readAll(store.content, B, info.digest)).toBe("from beta!!");
    await expectError(store.content.info(A, info.digest), "NotFound");
  });

  it("resumes an ingest after close and after a failed commit", async () => {
    const { store } = await setup();
    const w = await store.content.writer(A, { ref: "resume", total: 6 });
    await w.write(Buffer.from("abc"));
    await w.close();
    const again = await store.content.writer(A, { ref: "resume", total: 6 });
    expect((await again.status()).offset).toBe(3);
    await again.write(Buffer.from("def"));
    await expectError(again.commit(6, sha256("wrong")), "FailedPrecondition");
    await expectError(again.commit(7, ""), "FailedPrecondition");
    expect((await store.content.status(A, "resume")).offset).toBe(6);
    expect((await again.commit(6, sha256("abcdef"))).size).toBe(6);
    await expectError(again.write(Buffer.from("x")), "FailedPrecondition");
  });

  it("lists statuses with ref filters", async () => {
    const { store } = await setup();
    for (const ref of ["layer-1", "layer-2", "manifest-1"]) await (await store.content.writer(A, { ref })).close();
    expect((await store.content.listStatuses(A, ["ref~=^layer-"])).map((s) => s.ref)).toEqual(["layer-1", "layer-2"]);
    expect((await store.content.listStatuses(A, ["ref==manifest-1"])).map((s) => s.ref)).toEqual(["manifest-1"]);
    await expectError(store.content.status(A, "nope"), "NotFound");
    await expectError(store.content.writer(A, { ref: "" }), "InvalidArgument");
    await expectError(store.content.writer(A, { ref: "r", expected: "sha256:short" }), "InvalidArgument");
  });

  it("walks only its own blobs, with filters", async () => {
    const { store } = await setup();
    const one = await writeBlob(store.content, A, "1", "one", { kind: "layer" });
    const two = await writeBlob(store.content, A, "2", "two!", { kind: "config" });
    await writeBlob(store.content, B, "3", "three");
    await writeBlob(store.content, B, "1", "one");
    const digests = async (filters: string[]) => (await collect(store.content.walk(A, filters))).map((i) => i.digest).sort();

    expect(await digests([])).toEqual([one.digest, two.digest].sort());
    expect(await digests(["labels.kind==layer"])).toEqual([one.digest]);
    expect(await digests(["size==4"])).toEqual([two.digest]);
    expect(await digests([`digest==${two.digest}`, "labels.kind==layer"])).toEqual([one.digest, two.digest].sort());
    expect((await collect(store.content.walk(B, []))).length).toBe(2);
  });

  it("deletes only its own ownership and leaves the bytes to the collector", async () => {
    const { store, backend } = await setup();
    const { digest } = await writeBlob(store.content, A, "r", "kept bytes");
    await writeBlob(store.content, B, "r", "kept bytes");
    const lone = await writeBlob(store.content, A, "r2", "lonely");

    await store.content.delete(A, digest);
    await expectError(store.content.info(A, digest), "NotFound");
    await expectError(store.content.delete(A, digest), "NotFound");
    expect(await readAll(store.content, B, digest)).toBe("kept bytes");

    await store.content.delete(A, lone.digest);
    expect(backend.blobs.has(lone.digest)).toBe(true);
    expect((await store.unreferencedContent()).blobs).toEqual([lone.digest]);

    await store.content.delete(B, digest);
    expect((await store.unreferencedContent()).blobs.sort()).toEqual([digest, lone.digest].sort());
    expect(backend.blobs.size).toBe(2);
  });

  it("lists backend ingests no namespace points at, and keeps shared ones referenced", async () => {
    const { store, backend } = await setup();
    await (await store.content.writer(A, { ref: "live" })).close();
    const w = await backend.writer(A, { ref: "orphan" });
    await w.close();
    const { digest } = await writeBlob(store.content, A, "r", "blob");
    await (await store.content.writer(B, { ref: "claim", expected: digest })).close();
    await store.content.delete(A, digest);
    // B's shared ingest is about to claim it: not garbage.
    expect(await store.unreferencedContent()).toEqual({ blobs: [], ingests: ["orphan"] });
  });

  it("records what is written under a lease", async () => {
    const { store } = await setup();
    await store.leases.create(A, { id: "pull", labels: {} });
    const leased = ns("alpha", "pull");

    const w = await store.content.writer(leased, { ref: "layer" });
    expect(await store.leases.listResources(A, "pull")).toEqual([{ type: "ingests", id: "layer" }]);
    await w.write(Buffer.from("leased"));
    const info = await w.commit(0, "");
    expect(await store.leases.listResources(A, "pull")).toEqual([{ type: "content", id: info.digest }]);

    // A writer for content already present still leases it, then reports AlreadyExists.
    await store.leases.create(A, { id: "second", labels: {} });
    await expectError(store.content.writer(ns("alpha", "second"), { ref: "x", expected: info.digest }), "AlreadyExists");
    expect(await store.leases.listResources(A, "second")).toEqual([{ type: "content", id: info.digest }]);

    // Aborting and deleting under the lease release what it held.
    await (await store.content.writer(leased, { ref: "tmp" })).close();
    await store.content.abort(leased, "tmp");
    await store.content.delete(leased, info.digest);
    expect(await store.leases.listResources(A, "pull")).toEqual([]);
  });

  it("refuses a write under a lease that does not exist and leaves nothing behind", async () => {
    const { store, backend } = await setup();
    await expectError(store.content.writer(ns("fresh", "no-such-lease"), { ref: "r" }), "NotFound");
    await expectError(store.namespaces.get("fresh"), "NotFound");
    expect(backend.ingests.size).toBe(0);
    // The backend ref sequence did not move either: the first real ingest gets 1.
    await (await store.content.writer(ns("fresh"), { ref: "r" })).close();
    expect([...backend.ingests.keys()]).toEqual(["fresh/1/r"]);
  });
});
