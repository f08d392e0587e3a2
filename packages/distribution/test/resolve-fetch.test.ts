import { createHash } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { classOf, type Descriptor } from "@berth/core";
import { fixtureBlob, startProxy } from "@berth/testing";
import { MediaTypes } from "../src/index.js";
import { newResolver, onCleanup, readAll, rejection, sha256 } from "./support/helpers.js";

const registry = inject("fixtureRegistry");
const fixtures = inject("fixtures");

describe("resolve and fetch from a real registry (docker-registry, plain HTTP)", () => {
  it("resolves tiny to its OCI manifest and fetches manifest, config and layer byte for byte", async () => {
    const resolver = newResolver({ plainHttp: true });
    const { name, descriptor } = await resolver.resolve(`${registry}/tiny`);
    expect(name).toBe(`${registry}/tiny:latest`);
    expect(descriptor.digest).toBe(fixtures.tiny.digest);
    expect(descriptor.mediaType).toBe(MediaTypes.ociManifest);

    const fetcher = resolver.fetcher(name);
    const manifestBytes = await readAll(fetcher.fetch(descriptor));
    expect(manifestBytes.byteLength).toBe(descriptor.size);
    expect(sha256(manifestBytes)).toBe(fixtures.tiny.digest);
    const manifest = JSON.parse(manifestBytes.toString()) as { config: { digest: string; size: number; mediaType: string }; layers: Array<{ digest: string; size: number; mediaType: string }> };
    expect(manifest.config.digest).toBe(fixtures.tiny.config);

    const config = await readAll(fetcher.fetch(manifest.config));
    expect(config.equals(fixtureBlob("tiny", manifest.config.digest))).toBe(true);
    const layer = manifest.layers[0]!;
    const bytes = await readAll(fetcher.fetch(layer));
    expect(bytes.equals(fixtureBlob("tiny", layer.digest))).toBe(true);

    // A Range from an offset returns exactly the tail.
    const tail = await readAll(fetcher.fetch(layer, { offset: layer.size - 1000 }));
    expect(tail.equals(bytes.subarray(layer.size - 1000))).toBe(true);
    expect(await readAll(fetcher.fetch(layer, { offset: layer.size }))).toHaveLength(0);
    expect(classOf(await rejection(readAll(fetcher.fetch(layer, { offset: layer.size + 1 }))))).toBe("OutOfRange");
  });

  it("resolves tiny-multiarch to an index listing amd64 and arm64/v8", async () => {
    const resolver = newResolver({ plainHttp: true });
    const { descriptor } = await resolver.resolve(`${registry}/tiny-multiarch:latest`);
    expect(descriptor.mediaType).toBe(MediaTypes.ociIndex);
    expect(descriptor.digest).toBe(fixtures["tiny-multiarch"].digest);
    const index = JSON.parse((await readAll(resolver.fetcher(`${registry}/tiny-multiarch`).fetch(descriptor))).toString()) as {
      manifests: Array<{ digest: string; platform: { architecture: string; variant?: string } }>;
    };
    expect(index.manifests.map((m) => [m.platform.architecture, m.platform.variant, m.digest])).toEqual(
      fixtures["tiny-multiarch"].manifests!.map((m) => [m.platform["architecture"], m.platform["variant"], m.digest]),
    );
  });

  it("resolves by digest, and by tag+digest (the digest wins)", async () => {
    const resolver = newResolver({ plainHttp: true });
    const armDigest = fixtures["tiny-multiarch"].manifests![1]!.digest;
    const byDigest = await resolver.resolve(`${registry}/tiny-multiarch@${armDigest}`);
    expect(byDigest.descriptor.digest).toBe(armDigest);
    expect(byDigest.descriptor.mediaType).toBe(MediaTypes.ociManifest);
    const both = await resolver.resolve(`${registry}/tiny-multiarch:latest@${armDigest}`);
    expect(both.descriptor.digest).toBe(armDigest);
    expect(both.name).toBe(`${registry}/tiny-multiarch:latest@${armDigest}`);
  });

  it("fetches every blob of multi at once, each byte for byte", async () => {
    const resolver = newResolver({ plainHttp: true });
    const { name, descriptor } = await resolver.resolve(`${registry}/multi:latest`);
    const fetcher = resolver.fetcher(name);
    const manifestBytes = await readAll(fetcher.fetch(descriptor));
    expect(sha256(manifestBytes)).toBe(fixtures.multi.digest);
    const manifest = JSON.parse(manifestBytes.toString()) as { config: Descriptor; layers: Descriptor[] };
    expect(manifest.layers.map((l) => [l.digest, l.size])).toEqual(fixtures.multi.layers!.map((l) => [l.digest, l.size]));
    // Hashed as they stream: holding 150 MB of layers in memory would prove nothing more.
    const digests = await Promise.all(
      [manifest.config, ...manifest.layers].map(async (desc) => {
        const hash = createHash("sha256");
        let size = 0;
        for await (const chunk of fetcher.fetch(desc)) {
          hash.update(chunk);
          size += chunk.byteLength;
        }
        return [`sha256:${hash.digest("hex")}`, size];
      }),
    );
    expect(digests).toEqual([manifest.config, ...manifest.layers].map((d) => [d.digest, d.size]));
  });

  it("reports a missing tag, repository or blob as NotFound naming it", async () => {
    const resolver = newResolver({ plainHttp: true });
    const missingTag = await rejection(resolver.resolve(`${registry}/tiny:nope`));
    expect(classOf(missingTag)).toBe("NotFound");
    expect(missingTag.message).toContain(`${registry}/tiny:nope`);
    expect(classOf(await rejection(resolver.resolve(`${registry}/no-such-repo`)))).toBe("NotFound");
    const digest = `sha256:${"0".repeat(64)}`;
    const blob = await rejection(readAll(resolver.fetcher(`${registry}/tiny`).fetch({ mediaType: "application/octet-stream", digest, size: 10 })));
    expect(classOf(blob)).toBe("NotFound");
    expect(blob.message).toContain(digest);
  });

  it("refuses a manifest over the size limit before downloading it", async () => {
    const resolver = newResolver({ plainHttp: true, maxManifestSize: 200 });
    const err = await rejection(resolver.resolve(`${registry}/tiny`));
    expect(classOf(err)).toBe("ResourceExhausted");
    expect(err.message).toMatch(/over the 200-byte limit for manifests/);
    const big = { mediaType: MediaTypes.ociManifest, digest: fixtures.tiny.digest, size: 5 << 20 };
    const fetchErr = await rejection(readAll(newResolver({ plainHttp: true }).fetcher(`${registry}/tiny`).fetch(big)));
    expect(classOf(fetchErr)).toBe("ResourceExhausted");
    expect(fetchErr.message).toContain(fixtures.tiny.digest);
  });

  it("tries HTTPS first for a loopback registry with a port, then falls back to plain HTTP", async () => {
    const resolver = newResolver();
    const { descriptor } = await resolver.resolve(`${registry}/tiny`);
    expect(descriptor.digest).toBe(fixtures.tiny.digest);
  });

  it("falls back to GET for a registry that refuses HEAD, and hashes a manifest served without its digest", async () => {
    const refusesHead = await startProxy(registry);
    const noDigest = await startProxy(registry, { dropResponseHeaders: ["docker-content-digest"] });
    onCleanup(() => refusesHead.close());
    onCleanup(() => noDigest.close());
    refusesHead.fail(1, (r) => r.method === "HEAD", 405);
    const resolver = newResolver({ plainHttp: true });
    expect((await resolver.resolve(`${refusesHead.host}/tiny`)).descriptor.digest).toBe(fixtures.tiny.digest);
    expect(refusesHead.requests.map((r) => [r.method, r.status])).toEqual([["HEAD", 405], ["GET", 200]]);
    expect((await resolver.resolve(`${noDigest.host}/tiny-multiarch`)).descriptor).toMatchObject({
      digest: fixtures["tiny-multiarch"].digest,
      mediaType: MediaTypes.ociIndex,
    });
    expect(noDigest.requests.map((r) => r.method)).toEqual(["HEAD", "GET"]);
  });

  it("stops when the caller aborts", async () => {
    const resolver = newResolver({ plainHttp: true });
    const layer = { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...fixtures.multi.layers![2]! };
    const controller = new AbortController();
    let seen = 0;
    const err = await rejection(
      (async () => {
        for await (const chunk of resolver.fetcher(`${registry}/multi`).fetch(layer, { signal: controller.signal })) {
          seen += chunk.byteLength;
          if (seen > 1 << 20) controller.abort();
        }
      })(),
    );
    expect(classOf(err)).toBe("Canceled");
    expect(seen).toBeLessThan(layer.size);
  });
});
