// pullImage from a real registry (Debian's docker-registry, images pushed by skopeo), through
// @berth/distribution's resolver, into content-local under metadata-lmdb. The byte-counting
// proxy from @berth/testing shows what the registry really served.
import { open, readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classOf, type Descriptor, type OpContext } from "@berth/core";
import { createResolver, type Resolver } from "@berth/distribution";
import { ensureFixtureImages, fixtureBlob, startProxy, startRegistry, type FixtureSummary, type TestProxy, type TestRegistry } from "@berth/testing";
import { ingestRef, pullImage, registrySource, type BlobProgress, type PullOptions, type PullStores } from "../src/index.js";
import { ctx, newStores, onCleanup } from "./stores.js";

const LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";

let fixtures: FixtureSummary;
let registry: TestRegistry;
beforeAll(async () => {
  fixtures = await ensureFixtureImages();
  registry = await startRegistry({ images: ["tiny", "multi"] });
}, 180_000);
afterAll(() => registry?.stop());

function resolver(): Resolver {
  const r = createResolver({ plainHttp: true, retry: { baseDelayMs: 10, maxDelayMs: 50 } });
  onCleanup(() => r.close());
  return r;
}

async function proxyTo(host: string): Promise<TestProxy> {
  const proxy = await startProxy(host);
  onCleanup(() => proxy.close());
  return proxy;
}

/** `host/name:latest` pulled with a fresh resolver, as the Transfer service does. */
const pull = (stores: PullStores, host: string, name: string, opts?: PullOptions, pullCtx: OpContext = ctx) =>
  pullImage(stores, pullCtx, registrySource(resolver(), `${host}/${name}:latest`), opts);

/** GET requests the proxy passed on for a blob. */
const blobGets = (proxy: TestProxy, digest: string) => proxy.requests.filter((r) => r.method === "GET" && r.path.includes(`/blobs/${digest}`));

const rejection = async (promise: Promise<unknown>): Promise<Error> => {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
};

describe("pullImage from a registry", () => {
  it("stores every blob; each one's progress goes downloading → verifying → done", async () => {
    const { stores, backend } = await newStores();
    const states = new Map<string, string[]>();
    const onProgress = (p: BlobProgress) => {
      const seen = states.get(p.digest) ?? [];
      if (seen.at(-1) !== p.state) seen.push(p.state);
      states.set(p.digest, seen);
    };
    const result = await pull(stores, registry.host, "tiny", { onProgress });
    expect(result.image.target.digest).toBe(fixtures.tiny.digest);
    const layer = fixtures.tiny.layers![0]!;
    expect(states.get(layer.digest)).toEqual(["downloading", "verifying", "done"]);
    expect(states.get(fixtures.tiny.config!)).toEqual(["downloading", "verifying", "done"]);
    expect((await backend.info(ctx, layer.digest)).size).toBe(layer.size);
  });

  it("a corrupted blob in the registry fails naming its digest, stores nothing, and succeeds once repaired", async () => {
    // Its own registry: the layer's file in its storage gets one bad byte (same size), served as is.
    const own = await startRegistry({ images: ["tiny"] });
    onCleanup(() => own.stop());
    const proxy = await proxyTo(own.host);
    const layer: Descriptor = { mediaType: LAYER, ...fixtures.tiny.layers![0]! };
    const path = own.blobPath(layer.digest);
    const original = await readFile(path);
    const flip = async (byte: number) => {
      const file = await open(path, "r+");
      await file.write(Buffer.from([byte]), 0, 1, 500);
      await file.close();
    };
    await flip(original[500]! ^ 0xff);

    const { stores, backend, meta } = await newStores();
    const err = await rejection(pull(stores, proxy.host, "tiny"));
    expect(classOf(err)).toBe("FailedPrecondition");
    expect(err.message).toContain(`blob ${layer.digest}`);
    expect(err.message).toContain("digest mismatch");
    expect(err.message).toContain(`expected ${layer.digest}`);
    // Nothing corrupt committed, no ingest left to resume from, no image.
    expect(classOf(await rejection(backend.info(ctx, layer.digest)))).toBe("NotFound");
    expect(await backend.listStatuses(ctx, [])).toEqual([]);
    expect(classOf(await rejection(meta.images.get(ctx, `${proxy.host}/tiny:latest`)))).toBe("NotFound");

    // Repaired: the same pull now succeeds, downloading the layer again from its first byte.
    await flip(original[500]!);
    await pull(stores, proxy.host, "tiny");
    expect(fixtureBlob("tiny", layer.digest).equals(await readAll(backend.read(ctx, layer.digest)))).toBe(true);
    const gets = blobGets(proxy, layer.digest);
    expect(gets).toHaveLength(2);
    expect(gets[1]!.range).toBeUndefined();
    expect(gets[1]!.bodyBytes).toBe(layer.size);
  });

  it("an aborted pull resumes with a Range: the registry serves only the missing bytes", async () => {
    const proxy = await proxyTo(registry.host);
    const { stores, backend } = await newStores();
    const big = fixtures.multi.layers![2]!;

    // First attempt: the caller gives up once ~20 MiB of the big layer are in (as a killed client would).
    const stop = new AbortController();
    const err = await rejection(
      pull(stores, proxy.host, "multi", { onProgress: (p) => p.digest === big.digest && p.offset > 20 << 20 && stop.abort() }, { ...ctx, signal: stop.signal }),
    );
    expect(classOf(err), err.message).toBe("Canceled");
    const partial = (await stores.content.status(ctx, ingestRef({ mediaType: LAYER, ...big }))).offset;
    expect(partial).toBeGreaterThan(20 << 20);
    expect(partial).toBeLessThan(big.size);

    await pull(stores, proxy.host, "multi");
    const gets = blobGets(proxy, big.digest);
    expect(gets).toHaveLength(2);
    expect(gets[1]!.range).toBe(`bytes=${partial}-`);
    expect(gets[1]!.bodyBytes).toBe(big.size - partial);
    expect((await backend.info(ctx, big.digest)).size).toBe(big.size);
  });

  it("restarts a blob whose ingest holds more bytes than the blob", async () => {
    const { stores, backend } = await newStores();
    const layer: Descriptor = { mediaType: LAYER, ...fixtures.tiny.layers![0]! };
    const w = await stores.content.writer(ctx, { ref: ingestRef(layer) });
    await w.write(Buffer.alloc(layer.size + 10, 1));
    await w.close();
    await pull(stores, registry.host, "tiny");
    expect(fixtureBlob("tiny", layer.digest).equals(await readAll(backend.read(ctx, layer.digest)))).toBe(true);
  });

  it("waits while another writer holds a blob's ingest, and takes the blob it commits", async () => {
    const proxy = await proxyTo(registry.host);
    const { stores, backend } = await newStores();
    const layer: Descriptor = { mediaType: LAYER, ...fixtures.tiny.layers![0]! };
    const holder = await stores.content.writer(ctx, { ref: ingestRef(layer), total: layer.size, expected: layer.digest });
    let sawWaiting!: () => void;
    const waiting = new Promise<void>((resolve) => (sawWaiting = resolve));
    const states: string[] = [];
    const pulling = pull(stores, proxy.host, "tiny", {
      onProgress: (p) => {
        if (p.digest !== layer.digest) return;
        states.push(p.state);
        if (p.state === "waiting") sawWaiting();
      },
    });
    await waiting;
    await holder.write(fixtureBlob("tiny", layer.digest));
    await holder.commit(layer.size, layer.digest);
    await pulling;
    // Usually the retry finds the blob ("exists"); if it lands between the backend's commit and
    // the namespace's record of it, it gets a writer that starts complete and commits that
    // ("verifying", "done"). Either way not a byte is fetched.
    expect(states[0]).toBe("waiting");
    expect(["exists", "done"]).toContain(states.at(-1));
    expect(blobGets(proxy, layer.digest)).toHaveLength(0);
    expect((await backend.info(ctx, layer.digest)).size).toBe(layer.size);
  });

  it("two pulls of one image at once: each blob is downloaded once, the other pull waits for it", async () => {
    const proxy = await proxyTo(registry.host);
    const { stores, meta } = await newStores();
    const done = [new Map<string, string>(), new Map<string, string>()] as const;
    const track = (i: 0 | 1) => (p: BlobProgress) => {
      if (p.state === "done" || p.state === "exists") done[i].set(p.digest, p.state);
    };
    await Promise.all([
      pull(stores, proxy.host, "multi", { onProgress: track(0) }),
      pull(stores, proxy.host, "multi", { onProgress: track(1) }),
    ]);
    expect((await meta.images.get(ctx, `${proxy.host}/multi:latest`)).target.digest).toBe(fixtures.multi.digest);
    for (const digest of [fixtures.multi.config!, ...fixtures.multi.layers!.map((l) => l.digest)]) {
      expect(blobGets(proxy, digest), digest).toHaveLength(1);
      // One pull downloaded it; the other found it there, after waiting or not.
      expect([done[0].get(digest), done[1].get(digest)].sort(), digest).toEqual(["done", "exists"]);
    }
  });
});

async function readAll(iterable: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return Buffer.concat(chunks);
}
