import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { contentApi, eventPayloads, unpackAny } from "@berth/api";
import type { CallContext, OpContext } from "@berth/core";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { createContentService } from "../src/index.js";
import { opContext } from "../src/edge.js";
import { MemoryMetadata, RecordingPublisher, callContext } from "./fakes.js";
import { errClass, handlers, msg, RequestStream } from "./helpers.js";

const { STAT, WRITE, COMMIT } = contentApi.WriteAction;
const sha256 = (data: Uint8Array) => `sha256:${createHash("sha256").update(data).digest("hex")}`;
const EMPTY = sha256(new Uint8Array());
const ns = () => callContext({ namespace: "default" });
const op: OpContext = { namespace: "default" };
type WriteInit = MessageInitShape<typeof contentApi.WriteContentRequestSchema>;

function setup() {
  const metadata = new MemoryMetadata();
  const publisher = new RecordingPublisher();
  const content = handlers(createContentService(metadata, publisher), contentApi.Content);
  /** One Write stream, driven a message at a time like containerd's remote writer does. */
  const open = (ctx: CallContext = ns()) => {
    const requests = new RequestStream<contentApi.WriteContentRequest>();
    const responses = content.write(requests, ctx)[Symbol.asyncIterator]();
    return {
      async send(init: WriteInit) {
        requests.push(msg(contentApi.WriteContentRequestSchema, init));
        const r = await responses.next();
        if (r.done) throw new Error("stream ended without a response");
        return r.value;
      },
      /** Waits for the server's next response without sending anything. */
      async recv() {
        return responses.next();
      },
      /** Ends the request side; resolves with whether the server ended too. */
      async end() {
        requests.end();
        return (await responses.next()).done;
      },
    };
  };
  return { metadata, store: metadata.content, publisher, content, open };
}

describe("content Write stream", () => {
  it("STAT, WRITE, WRITE, COMMIT: one response each, then the stream ends; /content/create is published", async () => {
    const { open, store, publisher } = setup();
    const data = Buffer.from("hello world");
    const w = open();
    const stat = await w.send({ action: STAT, ref: "r1", total: 11n, expected: sha256(data) });
    expect(stat).toMatchObject({ action: STAT, offset: 0n, total: 11n, digest: EMPTY });
    expect(stat.startedAt).toBeDefined();
    expect(stat.updatedAt).toBeDefined();

    const w1 = await w.send({ action: WRITE, offset: 0n, data: data.subarray(0, 6) });
    expect(w1).toMatchObject({ action: WRITE, offset: 6n, digest: sha256(data.subarray(0, 6)) });
    const w2 = await w.send({ action: WRITE, offset: 6n, data: data.subarray(6) });
    expect(w2).toMatchObject({ action: WRITE, offset: 11n, digest: sha256(data) });
    // The response object lives for the whole stream, as containerd's does: STAT's total stays.
    expect(w2.total).toBe(11n);

    const commit = await w.send({ action: COMMIT, offset: 11n, total: 11n, expected: sha256(data), labels: { k: "v" } });
    expect(commit).toMatchObject({ action: COMMIT, offset: 11n, digest: sha256(data) });
    expect(await w.end()).toBe(true);

    expect(await store.info(op, sha256(data))).toMatchObject({ size: 11, labels: { k: "v" } });
    expect(await errClass(store.status(op, "r1"))).toBe("NotFound");
    expect(publisher.topics()).toEqual(["default /content/create"]);
    expect(unpackAny(eventPayloads.ContentCreateSchema, publisher.events[0]!.event)).toMatchObject({ digest: sha256(data), size: 11n });
  });

  it("data may come with the COMMIT itself, and total/expected only at commit", async () => {
    const { open, store } = setup();
    const data = Buffer.from("one shot");
    const w = open();
    await w.send({ action: STAT, ref: "r" });
    const commit = await w.send({ action: COMMIT, offset: 0n, data, total: BigInt(data.length), expected: sha256(data) });
    expect(commit).toMatchObject({ action: COMMIT, offset: BigInt(data.length), digest: sha256(data) });
    expect((await store.info(op, sha256(data))).size).toBe(data.length);
  });

  it("a client that ends the stream leaves the ingest to resume; a later stream continues at its offset", async () => {
    const { open, store } = setup();
    const data = Buffer.from("abcdef");
    const a = open();
    await a.send({ action: STAT, ref: "resume" });
    await a.send({ action: WRITE, offset: 0n, data: data.subarray(0, 3) });
    expect(await a.end()).toBe(true);
    expect((await store.status(op, "resume")).offset).toBe(3);

    const b = open();
    expect((await b.send({ action: STAT, ref: "resume" })).offset).toBe(3n);
    expect((await b.send({ action: WRITE, offset: 3n, data: data.subarray(3) })).offset).toBe(6n);
    expect((await b.send({ action: COMMIT, offset: 6n, total: 6n, expected: sha256(data) })).digest).toBe(sha256(data));
  });

  it("offset 0 on an ingest with data restarts it; any other wrong offset is OutOfRange and frees the ref", async () => {
    const { open, store } = setup();
    const a = open();
    await a.send({ action: STAT, ref: "r" });
    await a.send({ action: WRITE, offset: 0n, data: Buffer.from("abc") });
    const restarted = await a.send({ action: WRITE, offset: 0n, data: Buffer.from("xy") });
    expect(restarted.offset).toBe(2n);
    expect(restarted.digest).toBe(sha256(Buffer.from("xy")));
    expect(await errClass(a.send({ action: WRITE, offset: 7n, data: Buffer.from("z") }))).toBe("OutOfRange");
    expect((await store.status(op, "r")).offset).toBe(2);
    // The failed stream released the ref.
    const b = open();
    expect((await b.send({ action: STAT, ref: "r" })).offset).toBe(2n);
  });

  it("a wrong digest or size at COMMIT is FailedPrecondition; the ingest stays and the ref is free", async () => {
    const { open, store, publisher } = setup();
    const data = Buffer.from("payload");
    const a = open();
    await a.send({ action: STAT, ref: "bad" });
    await a.send({ action: WRITE, offset: 0n, data });
    expect(await errClass(a.send({ action: COMMIT, offset: 7n, expected: sha256(Buffer.from("other")) }))).toBe("FailedPrecondition");
    const b = open();
    expect((await b.send({ action: STAT, ref: "bad" })).offset).toBe(7n);
    expect(await errClass(b.send({ action: COMMIT, offset: 7n, total: 8n }))).toBe("FailedPrecondition");
    expect((await store.status(op, "bad")).offset).toBe(7);
    expect(publisher.events).toEqual([]);
  });

  it("an expected digest that already exists is AlreadyExists, at open or at any later message (the ingest is aborted)", async () => {
    const { open, store } = setup();
    const data = Buffer.from("exists");
    const first = open();
    await first.send({ action: STAT, ref: "one" });
    await first.send({ action: COMMIT, offset: 0n, data, expected: sha256(data) });

    expect(await errClass(open().send({ action: STAT, ref: "two", expected: sha256(data) }))).toBe("AlreadyExists");

    const late = open();
    await late.send({ action: STAT, ref: "three" });
    await late.send({ action: WRITE, offset: 0n, data });
    expect(await errClass(late.send({ action: COMMIT, offset: 6n, expected: sha256(data) }))).toBe("AlreadyExists");
    expect(await errClass(store.status(op, "three"))).toBe("NotFound");
  });

  it("malformed streams: no ref in the first message or no first message is InvalidArgument; no namespace is FailedPrecondition", async () => {
    const { open } = setup();
    expect(await errClass(open().send({ action: STAT }))).toBe("InvalidArgument");
    expect(await errClass(open().send({ action: WRITE, offset: 0n, data: Buffer.from("x") }))).toBe("InvalidArgument");
    const empty = open();
    await expect(empty.end()).rejects.toMatchObject({ errClass: "InvalidArgument" });
    expect(await errClass(open(callContext()).send({ action: STAT, ref: "r" }))).toBe("FailedPrecondition");
  });

  it("a second stream on a held ref is Unavailable until the first ends", async () => {
    const { open } = setup();
    const a = open();
    await a.send({ action: STAT, ref: "shared" });
    expect(await errClass(open().send({ action: STAT, ref: "shared" }))).toBe("Unavailable");
    await a.end();
    expect((await open().send({ action: STAT, ref: "shared" })).action).toBe(STAT);
  });

  it("a cancelled call releases the ref even though its request stream never ends", async () => {
    const { open } = setup();
    const cancel = new AbortController();
    const a = open(callContext({ namespace: "default", signal: cancel.signal }));
    await a.send({ action: STAT, ref: "held" });
    await a.send({ action: WRITE, offset: 0n, data: Buffer.from("x") });
    // The server now waits for a request that never comes.
    const waiting = a.recv();
    expect(await errClass(open().send({ action: STAT, ref: "held" }))).toBe("Unavailable");
    cancel.abort();
    expect(await errClass(waiting)).toBe("Canceled");
    expect((await open().send({ action: STAT, ref: "held" })).offset).toBe(1n);
  });

  it("an action it does not know is answered with the offset and changes nothing", async () => {
    const { open } = setup();
    const a = open();
    await a.send({ action: STAT, ref: "r" });
    await a.send({ action: WRITE, offset: 0n, data: Buffer.from("abc") });
    const odd = await a.send({ action: 7 as contentApi.WriteAction, offset: 0n, data: Buffer.from("zzz") });
    expect(odd).toMatchObject({ action: 7, offset: 3n });
  });
});

describe("call scoping", () => {
  it("the containerd-lease header reaches the store with the namespace", () => {
    expect(opContext(callContext({ namespace: "n", lease: "l1" }))).toMatchObject({ namespace: "n", lease: "l1" });
    expect(opContext(callContext({ namespace: "n" })).lease).toBeUndefined();
  });
});
