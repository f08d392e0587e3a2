import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { contentApi, eventPayloads, unpackAny } from "@berth/api";
import type { ContentStore, OpContext } from "@berth/core";
import { LIST_BATCH, READ_CHUNK, createContentService } from "../src/index.js";
import { MemoryMetadata, RecordingPublisher, callContext } from "./fakes.js";
import { collect, errClass, handlers, msg } from "./helpers.js";

const sha256 = (data: Uint8Array) => `sha256:${createHash("sha256").update(data).digest("hex")}`;
const ns = callContext({ namespace: "default" });
const op: OpContext = { namespace: "default" };

async function put(store: ContentStore, data: Uint8Array, ref = `ref-${sha256(data)}`, labels?: Record<string, string>) {
  const w = await store.writer(op, { ref });
  await w.write(data);
  return w.commit(data.length, sha256(data), labels);
}

function setup(opts: { readChunk?: number } = {}) {
  const metadata = new MemoryMetadata(opts);
  const publisher = new RecordingPublisher();
  const content = handlers(createContentService(metadata, publisher), contentApi.Content);
  return { metadata, store: metadata.content, publisher, content };
}

describe("content service: info, update, list, delete", () => {
  it("Info returns size, times and labels; bad digests are InvalidArgument, absent ones NotFound", async () => {
    const { store, content } = setup();
    const data = Buffer.from("hello");
    await put(store, data, "r", { a: "b" });
    const { info } = await content.info(msg(contentApi.InfoRequestSchema, { digest: sha256(data) }), ns);
    expect(info).toMatchObject({ digest: sha256(data), size: 5n, labels: { a: "b" } });
    expect(info?.createdAt?.seconds).toBeGreaterThan(0n);
    expect(await errClass(content.info(msg(contentApi.InfoRequestSchema, { digest: "sha256:xyz" }), ns))).toBe("InvalidArgument");
    expect(await errClass(content.info(msg(contentApi.InfoRequestSchema, { digest: "" }), ns))).toBe("InvalidArgument");
    expect(await errClass(content.info(msg(contentApi.InfoRequestSchema, { digest: sha256(Buffer.from("x")) }), ns))).toBe("NotFound");
  });

  it("every content call needs a namespace: FailedPrecondition without one", async () => {
    const { content } = setup();
    const none = callContext();
    expect(await errClass(content.info(msg(contentApi.InfoRequestSchema, { digest: sha256(Buffer.from("x")) }), none))).toBe("FailedPrecondition");
    expect(await errClass(collect(content.list(msg(contentApi.ListContentRequestSchema, {}), none)))).toBe("FailedPrecondition");
    expect(await errClass(content.listStatuses(msg(contentApi.ListStatusesRequestSchema, {}), none))).toBe("FailedPrecondition");
  });

  it("Update sets labels by mask path; an unknown path is the store's InvalidArgument", async () => {
    const { store, content } = setup();
    const data = Buffer.from("hello");
    await put(store, data, "r", { a: "b" });
    const update = (labels: Record<string, string>, paths: string[]) =>
      content.update(msg(contentApi.UpdateRequestSchema, { info: { digest: sha256(data), labels }, updateMask: { paths } }), ns);
    expect((await update({ k: "v" }, ["labels.k"])).info?.labels).toEqual({ a: "b", k: "v" });
    expect((await update({ z: "1" }, [])).info?.labels).toEqual({ z: "1" });
    expect(await errClass(update({}, ["size"]))).toBe("InvalidArgument");
    expect(await errClass(content.update(msg(contentApi.UpdateRequestSchema, {}), ns))).toBe("InvalidArgument");
  });

  it("List sends infos in batches of 100 and applies filters; a malformed filter is InvalidArgument", async () => {
    const { store, content } = setup();
    for (let i = 0; i < 2 * LIST_BATCH + 5; i++) await put(store, Buffer.from(`blob ${i}`), `r${i}`, i % 2 ? { odd: "yes" } : {});
    const batches = await collect(content.list(msg(contentApi.ListContentRequestSchema, {}), ns));
    expect(batches.map((b) => b.info?.length)).toEqual([100, 100, 5]);
    const odd = await collect(content.list(msg(contentApi.ListContentRequestSchema, { filters: ["labels.odd==yes"] }), ns));
    expect(odd.flatMap((b) => b.info ?? []).length).toBe(LIST_BATCH + 2);
    expect(await collect(content.list(msg(contentApi.ListContentRequestSchema, { filters: ["labels.none"] }), ns))).toEqual([]);
    expect(await errClass(collect(content.list(msg(contentApi.ListContentRequestSchema, { filters: ["labels.a=="] }), ns)))).toBe("InvalidArgument");
  });

  it("Delete removes the blob and publishes /content/delete; NotFound the second time", async () => {
    const { store, content, publisher } = setup();
    const data = Buffer.from("bye");
    await put(store, data);
    await content.delete(msg(contentApi.DeleteContentRequestSchema, { digest: sha256(data) }), ns);
    expect(await errClass(store.info(op, sha256(data)))).toBe("NotFound");
    expect(await errClass(content.delete(msg(contentApi.DeleteContentRequestSchema, { digest: sha256(data) }), ns))).toBe("NotFound");
    expect(await errClass(content.delete(msg(contentApi.DeleteContentRequestSchema, { digest: "nope" }), ns))).toBe("InvalidArgument");
    expect(publisher.topics()).toEqual(["default /content/delete"]);
    expect(unpackAny(eventPayloads.ContentDeleteSchema, publisher.events[0]!.event)?.digest).toBe(sha256(data));
  });
});

describe("content service: Read", () => {
  const blob = Buffer.alloc(3 * READ_CHUNK + 123);
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 7) % 251;

  it("streams the blob in chunks of at most 1 MiB, each with its offset, even from larger store chunks", async () => {
    const { store, content } = setup({ readChunk: 2 * READ_CHUNK + 1 });
    await put(store, blob);
    const chunks = await collect(content.read(msg(contentApi.ReadContentRequestSchema, { digest: sha256(blob) }), ns));
    expect(Math.max(...chunks.map((c) => c.data?.length ?? 0))).toBeLessThanOrEqual(READ_CHUNK);
    let expected = 0;
    for (const c of chunks) {
      expect(c.offset).toBe(BigInt(expected));
      expected += c.data!.length;
    }
    expect(Buffer.concat(chunks.map((c) => c.data!)).equals(blob)).toBe(true);
  });

  it("ends the stream after the last byte asked for, without waiting for the store's cleanup", async () => {
    const metadata = new MemoryMetadata();
    await put(metadata.content, blob);
    const inner = metadata.content;
    let cleaned = false;
    const slowCleanup = {
      ...inner,
      info: inner.info,
      read: (ctx: OpContext, digest: string, o?: { offset?: number; size?: number }) =>
        (async function* () {
          try {
            yield* inner.read(ctx, digest, o);
          } finally {
            await new Promise((r) => setTimeout(r, 200));
            cleaned = true;
          }
        })(),
    } as ContentStore;
    const content = handlers(createContentService({ content: slowCleanup }, new RecordingPublisher()), contentApi.Content);
    const chunks = await collect(content.read(msg(contentApi.ReadContentRequestSchema, { digest: sha256(blob), offset: 10n, size: 32768n }), ns));
    expect(Buffer.concat(chunks.map((c) => c.data!)).equals(blob.subarray(10, 10 + 32768))).toBe(true);
    expect(cleaned).toBe(false);
  });

  it("a store read aborted because the client cancelled ends the stream quietly", async () => {
    const metadata = new MemoryMetadata();
    await put(metadata.content, blob);
    const cancel = new AbortController();
    const aborting = {
      ...metadata.content,
      info: metadata.content.info,
      read: () =>
        (async function* () {
          yield new Uint8Array(10);
          cancel.abort();
          throw new DOMException("This operation was aborted", "AbortError");
        })(),
    } as unknown as ContentStore;
    const content = handlers(createContentService({ content: aborting }, new RecordingPublisher()), contentApi.Content);
    const ctx = callContext({ namespace: "default", signal: cancel.signal });
    const chunks = await collect(content.read(msg(contentApi.ReadContentRequestSchema, { digest: sha256(blob) }), ctx));
    expect(chunks).toHaveLength(1);
  });

  it("honours offset and size; size past the end or 0 reads to the end; offset past the end is OutOfRange", async () => {
    const { store, content } = setup();
    await put(store, blob);
    const read = (offset: number, size: number) =>
      collect(content.read(msg(contentApi.ReadContentRequestSchema, { digest: sha256(blob), offset: BigInt(offset), size: BigInt(size) }), ns)).then(
        (chunks) => ({ offsets: chunks.map((c) => Number(c.offset)), data: Buffer.concat(chunks.map((c) => c.data!)) }),
      );
    const mid = await read(1000, 5000);
    expect(mid.data.equals(blob.subarray(1000, 6000))).toBe(true);
    expect(mid.offsets[0]).toBe(1000);
    expect((await read(blob.length - 10, 1 << 30)).data.equals(blob.subarray(blob.length - 10))).toBe(true);
    expect((await read(blob.length - 10, 0)).data.length).toBe(10);
    expect((await read(blob.length, 0)).data.length).toBe(0);
    expect(await errClass(read(blob.length + 1, 0))).toBe("OutOfRange");
    expect(await errClass(collect(content.read(msg(contentApi.ReadContentRequestSchema, { digest: "bad" }), ns)))).toBe("InvalidArgument");
    expect(await errClass(collect(content.read(msg(contentApi.ReadContentRequestSchema, { digest: sha256(Buffer.from("z")) }), ns)))).toBe("NotFound");
  });
});

describe("content service: Status, ListStatuses, Abort", () => {
  it("reports ingests, filters them by ref, and aborts them", async () => {
    const { store, content } = setup();
    const w = await store.writer(op, { ref: "pull-1", total: 10, expected: sha256(Buffer.from("0123456789")) });
    await w.write(Buffer.from("0123"));
    await w.close();
    await (await store.writer(op, { ref: "other" })).close();

    const { status } = await content.status(msg(contentApi.StatusRequestSchema, { ref: "pull-1" }), ns);
    expect(status).toMatchObject({ ref: "pull-1", offset: 4n, total: 10n, expected: sha256(Buffer.from("0123456789")) });
    const missing = content.status(msg(contentApi.StatusRequestSchema, { ref: "nope" }), ns);
    await expect(missing).rejects.toThrow(/could not get status for ref "nope"/);
    expect(await errClass(missing)).toBe("NotFound");

    const all = await content.listStatuses(msg(contentApi.ListStatusesRequestSchema, {}), ns);
    expect(all.statuses?.map((s) => s.ref).sort()).toEqual(["other", "pull-1"]);
    const some = await content.listStatuses(msg(contentApi.ListStatusesRequestSchema, { filters: ["ref~=^pull-"] }), ns);
    expect(some.statuses?.map((s) => s.ref)).toEqual(["pull-1"]);
    expect(await errClass(content.listStatuses(msg(contentApi.ListStatusesRequestSchema, { filters: ["ref=="] }), ns))).toBe("InvalidArgument");

    await content.abort(msg(contentApi.AbortRequestSchema, { ref: "pull-1" }), ns);
    expect(await errClass(content.abort(msg(contentApi.AbortRequestSchema, { ref: "pull-1" }), ns))).toBe("NotFound");
  });
});
