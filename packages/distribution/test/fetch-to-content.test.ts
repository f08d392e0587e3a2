import { open, readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { classOf, type Descriptor } from "@berth/core";
import { fetchRef, fetchToContent, type FetchProgress } from "../src/index.js";
import { fixtureBlob } from "./support/fixtures.js";
import { ctx, newResolver, newStore, readAll, rejection, sha256 } from "./support/helpers.js";
import { startProxy } from "./support/proxy.js";
import { startRegistry, type TestRegistry } from "./support/registry.js";

const fixtures = inject("fixtures");
const fixtureRegistry = inject("fixtureRegistry");
const layerMediaType = "application/vnd.oci.image.layer.v1.tar+gzip";
const tinyLayer: Descriptor = { mediaType: layerMediaType, ...fixtures.tiny.layers![0]! };
const bigLayer: Descriptor = { mediaType: layerMediaType, ...fixtures.multi.layers![2]! };

describe("a registry serving a corrupted blob", () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    // Its own registry: the blob file in its storage gets a bad byte (same size), which it serves as is.
    registry = await startRegistry({ images: ["tiny"] });
  });
  afterAll(() => registry?.stop());

  it("fails naming the blob and the digest mismatch, stores nothing, and succeeds once the blob is right", async () => {
    const path = registry.blobPath(tinyLayer.digest);
    const original = await readFile(path);
    const file = await open(path, "r+");
    await file.write(Buffer.from([original[500]! ^ 0xff]), 0, 1, 500);
    await file.close();

    const store = await newStore();
    const resolver = newResolver({ plainHttp: true });
    const fetcher = resolver.fetcher(`${registry.host}/tiny`);
    const states: string[] = [];
    const err = await rejection(fetchToContent(store, ctx, fetcher, tinyLayer, { onProgress: (p) => states.push(p.state) }));
    expect(classOf(err)).toBe("FailedPrecondition");
    expect(err.message).toContain(`blob ${tinyLayer.digest}`);
    expect(err.message).toContain("digest mismatch");
    expect(err.message).toContain(`expected ${tinyLayer.digest}`);
    expect(err.message).toContain(`${registry.host}/tiny`);
    expect(states.at(-1)).toBe("failed");
    // Nothing committed, no partial ingest left to resume from.
    expect(classOf(await rejection(store.info(ctx, tinyLayer.digest)))).toBe("NotFound");
    expect(classOf(await rejection(store.status(ctx, fetchRef(tinyLayer.digest))))).toBe("NotFound");

    // Repaired: the same pull now succeeds, from scratch.
    const repaired = await open(path, "r+");
    await repaired.write(original.subarray(500, 501), 0, 1, 500);
    await repaired.close();
    const result = await fetchToContent(store, ctx, fetcher, tinyLayer);
    expect(result).toEqual({ outcome: "fetched", resumedFrom: 0, received: tinyLayer.size });
    expect(sha256(await readAll(store.read(ctx, tinyLayer.digest)))).toBe(tinyLayer.digest);
  });
});

describe("resuming an interrupted download with Range", () => {
  it("continues an ingest left by an aborted fetch: the registry serves only the missing bytes", async () => {
    const proxy = await startProxy(fixtureRegistry);
    try {
      const store = await newStore();
      const resolver = newResolver({ plainHttp: true });
      const fetcher = resolver.fetcher(`${proxy.host}/multi`);

      // First attempt: the caller aborts after ~20 MiB (as a killed daemon would stop).
      const controller = new AbortController();
      const err = await rejection(
        fetchToContent(store, ctx, fetcher, bigLayer, {
          signal: controller.signal,
          onProgress: (p: FetchProgress) => {
            if (p.offset > 20 << 20) controller.abort();
          },
        }),
      );
      expect(classOf(err)).toBe("Canceled");
      const partial = (await store.status(ctx, fetchRef(bigLayer.digest))).offset;
      expect(partial).toBeGreaterThan(20 << 20);
      expect(partial).toBeLessThan(bigLayer.size);

      const result = await fetchToContent(store, ctx, fetcher, bigLayer);
      expect(result.outcome).toBe("fetched");
      expect(result.resumedFrom).toBe(partial);
      expect(result.received).toBe(bigLayer.size - partial);
      // The second request asked for a Range and the registry sent just the rest.
      const second = proxy.requests.filter((r) => r.path.includes(bigLayer.digest)).at(-1)!;
      expect(second.range).toBe(`bytes=${partial}-`);
      expect(second.bodyBytes).toBe(bigLayer.size - partial);
      expect(proxy.requests.filter((r) => r.path.includes(bigLayer.digest))).toHaveLength(2);
      expect((await store.info(ctx, bigLayer.digest)).size).toBe(bigLayer.size);
    } finally {
      await proxy.close();
    }
  });

  it("reconnects with a Range by itself when the connection drops mid-blob", async () => {
    const proxy = await startProxy(fixtureRegistry);
    try {
      // Two drops on the same blob: at 5 MiB, then 3 MiB into the resumed response.
      proxy.cut(5 << 20, (r) => r.url?.includes(bigLayer.digest) === true && r.headers.range === undefined);
      proxy.cut(3 << 20, (r) => r.url?.includes(bigLayer.digest) === true && r.headers.range !== undefined);
      const resolver = newResolver({ plainHttp: true });
      const store = await newStore();
      const fetcher = resolver.fetcher(`${proxy.host}/multi`);
      const result = await fetchToContent(store, ctx, fetcher, bigLayer);
      expect(result).toEqual({ outcome: "fetched", resumedFrom: 0, received: bigLayer.size });
      const requests = proxy.requests.filter((r) => r.path.includes(bigLayer.digest) && r.method === "GET");
      // Each reconnect asks for the bytes after the last one consumed. The proxy cuts after 5 MiB
      // and then 3 MiB more; bytes still in flight when a connection breaks may be lost, so a
      // resume can start a little earlier, never later.
      const offsets = requests.map((r) => (r.range === undefined ? 0 : Number(/^bytes=(\d+)-$/.exec(r.range)?.[1])));
      expect(offsets).toHaveLength(3);
      expect(offsets[0]).toBe(0);
      expect(offsets[1]).toBeGreaterThan(4 << 20);
      expect(offsets[1]).toBeLessThanOrEqual(5 << 20);
      expect(offsets[2]).toBeGreaterThan(offsets[1]! + (2 << 20));
      expect(offsets[2]).toBeLessThanOrEqual(offsets[1]! + (3 << 20));
      expect((await store.info(ctx, bigLayer.digest)).size).toBe(bigLayer.size);
    } finally {
      await proxy.close();
    }
  });

  it("restarts cleanly when the ingest holds more than the blob", async () => {
    const store = await newStore();
    const w = await store.writer(ctx, { ref: fetchRef(tinyLayer.digest) });
    await w.write(Buffer.alloc(tinyLayer.size + 10, 1));
    await w.close();
    const resolver = newResolver({ plainHttp: true });
    const result = await fetchToContent(store, ctx, resolver.fetcher(`${fixtureRegistry}/tiny`), tinyLayer);
    expect(result.outcome).toBe("fetched");
    expect((await readAll(store.read(ctx, tinyLayer.digest))).equals(fixtureBlob("tiny", tinyLayer.digest))).toBe(true);
  });

  it("two fetches of the same blob at once: one downloads, the other waits and finds it", async () => {
    const store = await newStore();
    const resolver = newResolver({ plainHttp: true });
    const fetcher = resolver.fetcher(`${fixtureRegistry}/multi`);
    const results = await Promise.all([fetchToContent(store, ctx, fetcher, bigLayer), fetchToContent(store, ctx, fetcher, bigLayer)]);
    expect(results.map((r) => r.outcome).sort()).toEqual(["exists", "fetched"]);
  });
});
