import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { classOf, notFound, type CallContext } from "@berth/core";
import { createTtrpcClient, createTtrpcServer, type TtrpcServer } from "../src/index.js";
import { Echo, type Msg } from "./echo-service.js";
import { collect, fromArray, tempDir } from "./helpers.js";

let cleanup: () => Promise<void>;
let server: TtrpcServer;
let path: string;
const countSignals: AbortSignal[] = [];

beforeEach(async () => {
  let dir: string;
  ({ dir, cleanup } = await tempDir());
  path = join(dir, "s.sock");
  countSignals.length = 0;
  server = createTtrpcServer();
  server.register(Echo, {
    async *count(req, ctx) {
      countSignals.push(ctx.signal);
      for (let i = 0n; i < req.n; i++) {
        if (req.text === "fail" && i === 2n) throw notFound("ran out");
        if (req.text === "slow") await sleep(1);
        yield { n: i, text: req.text };
      }
      if (req.text === "endless") for (let i = 0n; !ctx.signal.aborted; i++) yield { n: i, blob: new Uint8Array(1024) };
    },
    async sum(requests: AsyncIterable<Msg>) {
      let total = 0n;
      let text = "";
      for await (const req of requests) {
        if (req.text === "boom") throw notFound("no such addend");
        total += req.n;
        text += req.text;
      }
      return { n: total, text };
    },
    async *chat(requests: AsyncIterable<Msg>, ctx: CallContext) {
      for await (const req of requests) yield { text: `${ctx.namespace ?? "-"}:${req.text}`, n: req.n + 1n };
      yield { text: "bye" };
    },
  });
  await server.listen(path);
});

afterEach(async () => {
  await server.close();
  await cleanup();
});

describe("streaming calls, Berth client to Berth server", () => {
  it("streams a server's responses until its end", async () => {
    const client = createTtrpcClient(path, Echo);
    const got = await collect(client.count({ n: 100n, text: "x" }));
    expect(got.map((m) => m.n)).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i)));
    expect(await collect(client.count({ n: 0n }))).toEqual([]);
    await client.close();
  });

  it("ends a server stream with the handler's error after the messages it sent", async () => {
    const client = createTtrpcClient(path, Echo);
    const got: bigint[] = [];
    const err = await (async () => {
      for await (const m of client.count({ n: 5n, text: "fail" })) got.push(m.n);
    })().catch((e: unknown) => e);
    expect(got).toEqual([0n, 1n]);
    expect(classOf(err)).toBe("NotFound");
    await client.close();
  });

  it("takes a client stream and answers once", async () => {
    const client = createTtrpcClient(path, Echo);
    const res = await client.sum(fromArray([{ n: 1n, text: "a" }, { n: 2n, text: "b" }, { n: 39n, text: "c" }]));
    expect(res).toMatchObject({ n: 42n, text: "abc" });
    expect((await client.sum(fromArray([]))).n).toBe(0n);
    expect(classOf(await client.sum(fromArray([{ n: 1n }, { text: "boom" }])).catch((e: unknown) => e))).toBe("NotFound");
    await client.close();
  });

  it("streams both ways, with metadata", async () => {
    const client = createTtrpcClient(path, Echo);
    async function* requests() {
      for (let i = 0n; i < 3n; i++) {
        await sleep(1);
        yield { text: `m${i}`, n: i };
      }
    }
    const got = await collect(client.chat(requests(), { namespace: "ns1" }));
    expect(got.map((m) => m.text)).toEqual(["ns1:m0", "ns1:m1", "ns1:m2", "bye"]);
    await client.close();
  });

  it("runs many streams at once on one connection", async () => {
    const client = createTtrpcClient(path, Echo);
    const all = await Promise.all(Array.from({ length: 50 }, (_, i) => collect(client.count({ n: BigInt(i), text: "slow" }))));
    all.forEach((got, i) => expect(got).toHaveLength(i));
    await client.close();
  });

  it("carries large streams with backpressure, and a reader that stops early leaves the connection usable", async () => {
    const client = createTtrpcClient(path, Echo);
    let received = 0;
    for await (const m of client.count({ text: "endless" })) {
      expect(m.blob.length).toBe(1024);
      if (++received === 5000) break;
    }
    expect(received).toBe(5000);
    const res = await client.sum(fromArray([{ n: 5n }]));
    expect(res.n).toBe(5n);
    await client.close();
    // With the connection gone, the server aborts the endless handler.
    const signal = countSignals[0]!;
    if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
  });

  it("fails a stream in flight with Unavailable when the connection drops", async () => {
    const client = createTtrpcClient(path, Echo);
    const iterator = client.count({ text: "endless" })[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    await server.close();
    const err = await (async () => {
      for (;;) if ((await iterator.next()).done) return undefined;
    })().catch((e: unknown) => e);
    expect(classOf(err)).toBe("Unavailable");
  });

  it("fails a client stream whose request source throws, and tells the server the stream is over", async () => {
    const client = createTtrpcClient(path, Echo);
    async function* broken() {
      yield { n: 1n };
      throw new Error("source broke");
    }
    const err = await client.sum(broken()).catch((e: unknown) => e);
    expect((err as Error).message).toBe("source broke");
    expect((await client.sum(fromArray([{ n: 2n }]))).n).toBe(2n);
    await client.close();
  });
});
