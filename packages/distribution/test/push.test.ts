import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { classOf, type Descriptor } from "@berth/core";
import { fixtureBlob, startProxy } from "@berth/testing";
import { MediaTypes } from "../src/index.js";
import { newResolver, onCleanup, readAll, rejection, sha256 } from "./support/helpers.js";

const registry = inject("fixtureRegistry");
const fixtures = inject("fixtures");

interface Manifest {
  config: Descriptor;
  layers: Descriptor[];
}

/** tiny's manifest, config and layer as descriptors and bytes, read from the fixture layout. */
function tinyImage() {
  const manifestBytes = fixtureBlob("tiny", fixtures.tiny.digest);
  const manifest = JSON.parse(manifestBytes.toString()) as Manifest;
  const root: Descriptor = { mediaType: MediaTypes.ociManifest, digest: fixtures.tiny.digest, size: manifestBytes.byteLength };
  const blobs = [manifest.config, ...manifest.layers].map((desc) => ({ desc, bytes: fixtureBlob("tiny", desc.digest) }));
  return { root, manifestBytes, blobs };
}

const unique = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

describe("push to a real registry", () => {
  it("pushes blobs then the manifest under a new name; resolving it back gives the same digest", async () => {
    const resolver = newResolver({ plainHttp: true });
    const ref = `${registry}/${unique("pushed")}:v1`;
    const pusher = resolver.pusher(ref);
    const { root, manifestBytes, blobs } = tinyImage();

    for (const { desc, bytes } of blobs) expect((await pusher.push(desc, bytes)).outcome).toBe("uploaded");
    expect((await pusher.push(root, manifestBytes)).outcome).toBe("uploaded");

    const resolved = await resolver.resolve(ref);
    expect(resolved.descriptor).toEqual(root);
    const fetcher = resolver.fetcher(ref);
    expect((await readAll(fetcher.fetch(root))).equals(manifestBytes)).toBe(true);
    for (const { desc, bytes } of blobs) expect((await readAll(fetcher.fetch(desc))).equals(bytes)).toBe(true);

    // Pushing again finds everything in place.
    for (const { desc, bytes } of blobs) expect((await pusher.push(desc, bytes)).outcome).toBe("exists");
    expect((await pusher.push(root, manifestBytes)).outcome).toBe("exists");
  });

  it("mounts blobs from another repository of the same registry instead of uploading them", async () => {
    const proxy = await startProxy(registry);
    onCleanup(() => proxy.close());
    const resolver = newResolver({ plainHttp: true });
    const ref = `${proxy.host}/${unique("mounted")}:latest`;
    const pusher = resolver.pusher(ref);
    const { root, manifestBytes, blobs } = tinyImage();
    const [config, layer] = blobs as [(typeof blobs)[0], (typeof blobs)[0]];

    // By option, and by containerd's distribution-source annotation.
    const byOption = await pusher.push(config.desc, config.bytes, { mountFrom: ["no-such-repo", "tiny"] });
    expect(byOption).toMatchObject({ outcome: "mounted", mountedFrom: "tiny" });
    const annotated = { ...layer.desc, annotations: { [`containerd.io/distribution.source.${proxy.host}`]: "tiny" } };
    expect(await pusher.push(annotated, layer.bytes)).toMatchObject({ outcome: "mounted", mountedFrom: "tiny" });
    // No blob bytes went up: only mount POSTs, no PUT/PATCH of data.
    expect(proxy.requests.filter((r) => r.method === "PUT" || r.method === "PATCH")).toEqual([]);
    expect(proxy.requests.some((r) => r.method === "POST" && r.path.includes(`mount=${encodeURIComponent(layer.desc.digest)}`) && r.path.includes("from=tiny"))).toBe(true);

    await pusher.push(root, manifestBytes);
    expect((await resolver.resolve(ref)).descriptor.digest).toBe(root.digest);
  });

  it("uploads in PATCH chunks when asked, and the blob reads back intact", async () => {
    const proxy = await startProxy(registry);
    onCleanup(() => proxy.close());
    const resolver = newResolver({ plainHttp: true });
    const ref = `${proxy.host}/${unique("chunked")}:latest`;
    const data = randomBytes(2.5 * (1 << 20));
    const desc: Descriptor = { mediaType: "application/octet-stream", digest: sha256(data), size: data.byteLength };
    // The body as a stream of odd-sized pieces, regrouped into 1 MiB chunks.
    const body = async function* () {
      for (let at = 0; at < data.byteLength; at += 300_001) yield data.subarray(at, at + 300_001);
    };
    expect((await resolver.pusher(ref).push(desc, body, { chunkSize: 1 << 20 })).outcome).toBe("uploaded");
    const patches = proxy.requests.filter((r) => r.method === "PATCH");
    expect(patches).toHaveLength(3);
    expect((await readAll(resolver.fetcher(ref).fetch(desc))).equals(data)).toBe(true);
  });

  it("pushes an index with its manifests by digest and the index by tag", async () => {
    const resolver = newResolver({ plainHttp: true });
    const ref = `${registry}/${unique("index")}:multi`;
    const source = resolver.fetcher(`${registry}/tiny-multiarch`);
    const pusher = resolver.pusher(ref);
    const index = fixtures["tiny-multiarch"];
    const indexBytes = fixtureBlob("tiny-multiarch", index.digest);
    for (const m of JSON.parse(indexBytes.toString()).manifests as Descriptor[]) {
      const bytes = await readAll(source.fetch(m));
      const manifest = JSON.parse(bytes.toString()) as Manifest;
      for (const blob of [manifest.config, ...manifest.layers]) await pusher.push(blob, () => source.fetch(blob), { mountFrom: ["tiny-multiarch"] });
      expect((await pusher.push(m, bytes, { tag: false })).outcome).toBe("uploaded");
    }
    // Children pushed by digest only: the tag does not exist yet.
    expect(classOf(await rejection(resolver.resolve(ref)))).toBe("NotFound");
    const root: Descriptor = { mediaType: MediaTypes.ociIndex, digest: index.digest, size: indexBytes.byteLength };
    await pusher.push(root, indexBytes);
    expect((await resolver.resolve(ref)).descriptor).toEqual(root);
  });

  it("refuses a body that does not match its descriptor, leaving nothing behind", async () => {
    const resolver = newResolver({ plainHttp: true });
    const ref = `${registry}/${unique("mismatch")}:latest`;
    const data = randomBytes(1000);
    const desc: Descriptor = { mediaType: "application/octet-stream", digest: sha256(data), size: 1000 };
    const err = await rejection(resolver.pusher(ref).push(desc, randomBytes(1000)));
    expect(classOf(err)).toBe("FailedPrecondition");
    expect(err.message).toContain(desc.digest);
    const short = await rejection(resolver.pusher(ref).push(desc, data.subarray(0, 999)));
    expect(classOf(short)).toBe("FailedPrecondition");
    expect(classOf(await rejection(readAll(resolver.fetcher(ref).fetch(desc))))).toBe("NotFound");
  });
});
