// pushImage from real stores (content-local under metadata-lmdb) to Debian's docker-registry,
// through @berth/distribution's pusher; the counting proxy shows what was uploaded, mounted or
// only checked. Pulling back (or resolving) proves the registry holds the same digests.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classOf, type Descriptor } from "@berth/core";
import { createResolver, type Resolver } from "@berth/distribution";
import { ensureFixtureImages, fixtureLayout, startProxy, startRegistry, type FixtureSummary, type TestProxy, type TestRegistry } from "@berth/testing";
import { parsePlatform } from "@berth/image-spec";
import { ociLayoutSource, pullImage, pushImage, readImageTree, registrySource, type BlobProgress } from "../src/index.js";
import { ctx, newStores, onCleanup } from "./stores.js";

let fixtures: FixtureSummary;
let registry: TestRegistry;
beforeAll(async () => {
  fixtures = await ensureFixtureImages();
  registry = await startRegistry({ images: ["multi"] });
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

/** Requests that uploaded bytes of a blob: the monolithic PUT ?digest= (PATCH chunks are not used here). */
const blobUploads = (proxy: TestProxy, digest: string) =>
  proxy.requests.filter((r) => r.method === "PUT" && r.path.includes("/blobs/uploads/") && decodeURIComponent(r.path).includes(`digest=${digest}`));
const mounts = (proxy: TestProxy, digest: string) =>
  proxy.requests.filter((r) => r.method === "POST" && decodeURIComponent(r.path).includes(`mount=${digest}`));

describe("pushImage", () => {
  it("pushes an image under a new name: the registry then resolves it to the same digests, and a second push only checks", async () => {
    const { stores } = await newStores();
    const pulled = await pullImage(stores, ctx, ociLayoutSource(fixtureLayout("tiny"), "example.test/tiny:latest"));
    const proxy = await proxyTo(registry.host);
    const ref = `${proxy.host}/copies/tiny:v1`;
    const states = new Map<string, string>();
    const result = await pushImage(stores.content, ctx, pulled.image.target, resolver().pusher(ref), {
      onProgress: (p: BlobProgress) => states.set(p.digest, p.state),
    });
    const layer = fixtures.tiny.layers![0]!;
    expect(result.blobs.get(layer.digest)).toBe("uploaded");
    expect(result.blobs.get(fixtures.tiny.config!)).toBe("uploaded");
    expect(result.blobs.get(fixtures.tiny.digest)).toBe("uploaded");
    expect(states.get(layer.digest)).toBe("done");
    expect(blobUploads(proxy, layer.digest)).toHaveLength(1);
    // The manifest went last, by tag.
    const last = proxy.requests.filter((r) => r.method === "PUT").at(-1)!;
    expect(last.path).toBe("/v2/copies/tiny/manifests/v1");

    const back = await resolver().resolve(ref);
    expect(back.descriptor.digest).toBe(fixtures.tiny.digest);
    // Pulled back into fresh stores from the registry: the same blobs, verified on the way in.
    const fresh = await newStores();
    const again = await pullImage(fresh.stores, ctx, registrySource(resolver(), ref));
    expect(again.image.target.digest).toBe(fixtures.tiny.digest);
    expect((await fresh.backend.info(ctx, layer.digest)).size).toBe(layer.size);

    const before = proxy.requests.length;
    const second = await pushImage(stores.content, ctx, pulled.image.target, resolver().pusher(ref));
    expect([...second.blobs.values()]).toEqual(["exists", "exists", "exists"]);
    expect(proxy.requests.slice(before).every((r) => r.method === "HEAD")).toBe(true);
  });

  it("mounts blobs pulled from another repository of the same registry instead of uploading them", async () => {
    const proxy = await proxyTo(registry.host);
    const { stores, meta } = await newStores();
    await pullImage(stores, ctx, registrySource(resolver(), `${proxy.host}/multi:latest`));
    const layers = fixtures.multi.layers!;
    // containerd's label: the repository each blob came from, per registry host.
    const sourceKey = `containerd.io/distribution.source.${proxy.host}`;
    expect((await meta.content.info(ctx, layers[0]!.digest)).labels[sourceKey]).toBe("multi");
    expect((await meta.content.info(ctx, fixtures.multi.digest)).labels[sourceKey]).toBe("multi");

    const image = await meta.images.get(ctx, `${proxy.host}/multi:latest`);
    const ref = `${proxy.host}/elsewhere/multi:copy`;
    const result = await pushImage(stores.content, ctx, image.target, resolver().pusher(ref));
    for (const l of layers) {
      expect(result.blobs.get(l.digest), l.digest).toBe("mounted");
      expect(mounts(proxy, l.digest).map((r) => r.status)).toEqual([201]);
      expect(blobUploads(proxy, l.digest)).toHaveLength(0);
    }
    expect((await resolver().resolve(ref)).descriptor.digest).toBe(fixtures.multi.digest);
  }, 120_000);

  it("pushes an index with the chosen platforms' manifests; a manifest the store lacks is NotFound naming it", async () => {
    const { stores } = await newStores();
    const arm = await pullImage(stores, ctx, ociLayoutSource(fixtureLayout("tiny-multiarch"), "example.test/m:arm"), { platform: parsePlatform("linux/arm64") });
    const amd64 = fixtures["tiny-multiarch"].manifests!.find((m) => m.platform["architecture"] === "amd64")!.digest;
    const err = await pushImage(stores.content, ctx, arm.image.target, resolver().pusher(`${registry.host}/m:all`)).then(
      () => new Error("expected a failure"),
      (e: unknown) => e as Error,
    );
    expect(classOf(err), err.message).toBe("NotFound");
    expect(err.message).toContain(`${amd64} (linux/amd64) of ${fixtures["tiny-multiarch"].digest} is not in the content store`);

    // With every platform in the store, the whole index goes and resolves to the same digest.
    await pullImage(stores, ctx, ociLayoutSource(fixtureLayout("tiny-multiarch"), "example.test/m:all"), { platform: "all" });
    const proxy = await proxyTo(registry.host);
    const pushed = await pushImage(stores.content, ctx, arm.image.target, resolver().pusher(`${proxy.host}/m:all`));
    const tree = await readImageTree(stores.content, ctx, arm.image.target, "all");
    expect([...pushed.blobs.keys()].sort()).toEqual(tree.map((n: { desc: Descriptor }) => n.desc.digest).sort());
    // Children went before parents: the index's PUT is the last request that wrote anything.
    const writes = proxy.requests.filter((r) => r.method === "PUT");
    expect(writes.at(-1)!.path).toBe("/v2/m/manifests/all");
    expect((await resolver().resolve(`${registry.host}/m:all`)).descriptor.digest).toBe(fixtures["tiny-multiarch"].digest);
  });
});
