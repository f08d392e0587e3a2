import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { classOf, type Descriptor } from "@berth/core";
import { ensureFixtureImages, fixtureLayout, type FixtureName } from "@berth/testing";
import { parsePlatform } from "@berth/image-spec";
import { ociLayoutSource, pullImage, type ImageSource } from "../src/index.js";
import { ctx, newStores as stores } from "./stores.js";

const layout = fixtureLayout;
beforeAll(() => ensureFixtureImages());

async function manifestOf(name: FixtureName): Promise<{ config: Descriptor; layers: Descriptor[] }> {
  const index = JSON.parse(await readFile(join(layout(name), "index.json"), "utf8")) as { manifests: Descriptor[] };
  const digest = index.manifests[0]!.digest;
  return JSON.parse(await readFile(join(layout(name), "blobs", "sha256", digest.slice(7)), "utf8")) as { config: Descriptor; layers: Descriptor[] };
}

/** A source whose fetches pass through `transform`, counting the bytes it serves. */
function instrumented(source: ImageSource, transform?: (desc: Descriptor, chunk: Uint8Array, served: number) => Uint8Array) {
  const counter = { bytes: 0 };
  const wrapped: ImageSource = {
    resolve: (signal) => source.resolve(signal),
    async *fetch(desc, opts) {
      let served = opts.offset;
      for await (const chunk of source.fetch(desc, opts)) {
        const out = transform ? transform(desc, chunk, served) : chunk;
        served += out.byteLength;
        counter.bytes += out.byteLength;
        yield out;
      }
    },
  };
  return { source: wrapped, counter };
}

describe("pullImage from an OCI layout", () => {
  it("stores every blob with GC labels, creates the image last and drops its temporary lease", async () => {
    const { stores: s, meta } = await stores();
    const manifest = await manifestOf("tiny");
    const progress = new Set<string>();
    const result = await pullImage(s, ctx, ociLayoutSource(layout("tiny"), "example.test/tiny:latest"), {
      onProgress: (p) => progress.add(`${p.digest}:${p.state}`),
    });
    expect(result.image.name).toBe("example.test/tiny:latest");
    expect((await meta.images.get(ctx, "example.test/tiny:latest")).target.digest).toBe(result.image.target.digest);
    const labels = (await meta.content.info(ctx, result.image.target.digest)).labels;
    expect(labels["containerd.io/gc.ref.content.config"]).toBe(manifest.config.digest);
    expect(labels["containerd.io/gc.ref.content.l.0"]).toBe(manifest.layers[0]!.digest);
    expect((await meta.content.info(ctx, manifest.layers[0]!.digest)).size).toBe(manifest.layers[0]!.size);
    expect(progress.has(`${manifest.layers[0]!.digest}:done`)).toBe(true);
    expect(await meta.leases.list(ctx, [])).toEqual([]);
  });

  it("pulling again fetches nothing", async () => {
    const { stores: s } = await stores();
    await pullImage(s, ctx, ociLayoutSource(layout("tiny"), "t:1"));
    const { source, counter } = instrumented(ociLayoutSource(layout("tiny"), "t:1"));
    await pullImage(s, ctx, source);
    expect(counter.bytes).toBe(0);
  });

  it("selects the platform's manifest from an index, or all of them", async () => {
    const index = JSON.parse(await readFile(join(layout("tiny-multiarch"), "index.json"), "utf8")) as { manifests: Descriptor[] };
    const nested = JSON.parse(await readFile(join(layout("tiny-multiarch"), "blobs", "sha256", index.manifests[0]!.digest.slice(7)), "utf8")) as {
      manifests: (Descriptor & { platform: { architecture: string } })[];
    };
    const digestFor = (arch: string) => nested.manifests.find((m) => m.platform.architecture === arch)!.digest;

    const { stores: s } = await stores();
    const arm = await pullImage(s, ctx, ociLayoutSource(layout("tiny-multiarch"), "m:arm"), { platform: parsePlatform("linux/arm64") });
    expect(arm.manifests.map((m) => m.digest)).toEqual([digestFor("arm64")]);
    await expect(s.content.info(ctx, digestFor("amd64"))).rejects.toSatisfy((e) => classOf(e) === "NotFound");

    const host = await pullImage(s, ctx, ociLayoutSource(layout("tiny-multiarch"), "m:host"));
    expect(host.manifests.map((m) => m.digest)).toEqual([digestFor("amd64")]);

    const all = await pullImage(s, ctx, ociLayoutSource(layout("tiny-multiarch"), "m:all"), { platform: "all" });
    expect(all.manifests.map((m) => m.digest).sort()).toEqual([digestFor("amd64"), digestFor("arm64")].sort());

    await expect(
      pullImage(s, ctx, ociLayoutSource(layout("tiny-multiarch"), "m:s390x"), { platform: parsePlatform("linux/s390x") }),
    ).rejects.toThrow(/no manifest .* for platform linux\/s390x/);
  });

  it("a corrupted blob fails naming it, stores nothing corrupt, and a later good pull succeeds", async () => {
    const { stores: s, backend } = await stores();
    const layer = (await manifestOf("tiny")).layers[0]!;
    const { source } = instrumented(ociLayoutSource(layout("tiny"), "c:1"), (desc, chunk, served) => {
      if (desc.digest !== layer.digest || served > 0) return chunk;
      const bad = Buffer.from(chunk);
      bad[0] = bad[0]! ^ 0xff;
      return bad;
    });
    await expect(pullImage(s, ctx, source)).rejects.toThrow(new RegExp(`blob ${layer.digest}.*failed verification`));
    await expect(backend.info(ctx, layer.digest)).rejects.toSatisfy((e) => classOf(e) === "NotFound");
    expect(await backend.listStatuses(ctx, [])).toEqual([]);
    await expect(s.images.get(ctx, "c:1")).rejects.toSatisfy((e) => classOf(e) === "NotFound");

    await pullImage(s, ctx, ociLayoutSource(layout("tiny"), "c:1"));
    expect((await backend.info(ctx, layer.digest)).size).toBe(layer.size);
  });

  it("an interrupted download resumes from its offset", async () => {
    const { stores: s } = await stores();
    const layer = (await manifestOf("tiny")).layers[0]!;
    const cut = 300_000;
    const good = ociLayoutSource(layout("tiny"), "r:1");
    // Serves `cut` bytes of the layer, then drops the connection.
    const failing: ImageSource = {
      resolve: (signal) => good.resolve(signal),
      async *fetch(desc, opts) {
        let served = opts.offset;
        for await (const chunk of good.fetch(desc, opts)) {
          if (desc.digest === layer.digest && served + chunk.byteLength > cut) {
            yield chunk.subarray(0, cut - served);
            throw new Error("connection reset");
          }
          served += chunk.byteLength;
          yield chunk;
        }
      },
    };
    await expect(pullImage(s, ctx, failing)).rejects.toThrow(/connection reset/);
    const status = await s.content.status(ctx, `remote-${layer.digest}`);
    expect(status.offset).toBe(cut);

    const { source, counter } = instrumented(ociLayoutSource(layout("tiny"), "r:1"));
    await pullImage(s, ctx, source);
    expect(counter.bytes).toBe(layer.size - cut);
  });
});
