// Image archives: exportArchive writes an OCI image layout tar from real stores, importArchive
// reads one (or a docker-archive made by skopeo) back as it streams, into another namespace.
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { classOf, type OpContext } from "@berth/core";
import { readTar } from "@berth/differ";
import { ensureFixtureImages, exec, fixtureBlob, fixtureLayout, requireTool, type FixtureSummary } from "@berth/testing";
import { parsePlatform } from "@berth/image-spec";
import { exportArchive, importArchive, ociLayoutSource, pullImage, type ReferenceRule } from "../src/index.js";
import { ctx, newStores, onCleanup } from "./stores.js";

let fixtures: FixtureSummary;
beforeAll(async () => {
  fixtures = await ensureFixtureImages();
});

const other: OpContext = { namespace: "other" };
/** ctr's default for `images import`: bare tags under import-<date>, full names kept. */
const keepNames: ReferenceRule[] = [{ name: "import-test", isPrefix: true, allowOverwrite: true }];

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Feeds `bytes` in uneven pieces, as a network stream would. */
async function* pieces(bytes: Buffer, size = 70_001): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

const sha256 = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "berth-archive-"));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("exportArchive and importArchive", () => {
  it("export then import in another namespace: the same image, digests and blobs", async () => {
    const { stores, meta } = await newStores();
    const name = "example.test/tiny:latest";
    const { image } = await pullImage(stores, ctx, ociLayoutSource(fixtureLayout("tiny"), name));
    const tar = await collect(exportArchive(stores.content, ctx, [image]));

    const files = new Map<string, Buffer>();
    for await (const { entry, data } of readTar([tar])) if (entry.type === "file") files.set(entry.name, data);
    const layer = fixtures.tiny.layers![0]!;
    for (const digest of [fixtures.tiny.digest, fixtures.tiny.config!, layer.digest]) {
      const blob = files.get(`blobs/sha256/${digest.slice(7)}`);
      expect(blob && sha256(blob), digest).toBe(digest);
    }
    expect(JSON.parse(files.get("oci-layout")!.toString())).toEqual({ imageLayoutVersion: "1.0.0" });
    const index = JSON.parse(files.get("index.json")!.toString()) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0]!.digest).toBe(fixtures.tiny.digest);
    expect(index.manifests[0]!.annotations).toMatchObject({ "io.containerd.image.name": name, "org.opencontainers.image.ref.name": "latest" });
    // docker's manifest.json beside it, so `docker load` takes the archive too.
    expect(JSON.parse(files.get("manifest.json")!.toString())).toEqual([
      { Config: `blobs/sha256/${fixtures.tiny.config!.slice(7)}`, RepoTags: [name], Layers: [`blobs/sha256/${layer.digest.slice(7)}`] },
    ]);

    const result = await importArchive(stores, other, pieces(tar), { references: keepNames });
    expect(result.images.map((i) => [i.name, i.target.digest])).toEqual([[name, fixtures.tiny.digest]]);
    expect((await meta.images.get(other, name)).target.digest).toBe(fixtures.tiny.digest);
    expect((await meta.content.info(other, layer.digest)).size).toBe(layer.size);
    // GC labels as a pull leaves them, and no lease or ingest left behind.
    expect((await meta.content.info(other, fixtures.tiny.digest)).labels["containerd.io/gc.ref.content.l.0"]).toBe(layer.digest);
    expect(await meta.leases.list(other, [])).toEqual([]);
    expect(await meta.content.listStatuses(other, [])).toEqual([]);
  });

  it("imports a gzip-compressed archive into fresh stores, every blob written from the archive", async () => {
    const source = await newStores();
    const { image } = await pullImage(source.stores, ctx, ociLayoutSource(fixtureLayout("tiny"), "example.test/tiny:gz"));
    const tar = await collect(exportArchive(source.stores.content, ctx, [image]));
    const { stores, backend } = await newStores();
    const result = await importArchive(stores, ctx, pieces(gzipSync(tar)), { references: keepNames });
    expect(result.images.map((i) => i.name)).toEqual(["example.test/tiny:gz"]);
    const layer = fixtures.tiny.layers![0]!;
    expect(fixtureBlob("tiny", layer.digest).equals(await collect(backend.read(ctx, layer.digest)))).toBe(true);
  });

  it("names bare tags under the base name; a base name that must match drops other names", async () => {
    // skopeo's OCI layout annotates only the tag: "latest".
    const layout = await tempDir();
    const tarPath = join(layout, "tiny.tar");
    await exec("tar", ["-cf", tarPath, "-C", fixtureLayout("tiny"), "."]);
    const tar = await readFile(tarPath);
    const { stores, meta } = await newStores();
    const named = await importArchive(stores, ctx, pieces(tar), { references: [{ name: "example.test/base", isPrefix: true, allowOverwrite: true }] });
    expect(named.images.map((i) => i.name)).toEqual(["example.test/base:latest"]);
    expect((await meta.images.get(ctx, "example.test/base:latest")).target.digest).toBe(fixtures.tiny.digest);

    const digestRefs = await importArchive(stores, ctx, pieces(tar), {
      references: [{ name: "example.test/d", isPrefix: true, allowOverwrite: true, addDigest: true }],
      indexName: "example.test/whole-index:1",
    });
    expect(digestRefs.images.map((i) => i.name)).toEqual([
      "example.test/d:latest",
      `example.test/d@${fixtures.tiny.digest}`,
      "example.test/whole-index:1",
    ]);
    expect(digestRefs.images[2]!.target.mediaType).toBe("application/vnd.oci.image.index.v1+json");
  });

  it("imports a docker-archive made by skopeo: a Docker schema 2 manifest over the same config and plain-tar layers", async () => {
    await requireTool("skopeo", "skopeo");
    const dir = await tempDir();
    const archive = join(dir, "tiny-docker.tar");
    await exec("skopeo", ["copy", `oci:${fixtureLayout("tiny")}:latest`, `docker-archive:${archive}:example.test/tiny:docker`]);
    const { stores, meta } = await newStores();
    const result = await importArchive(stores, ctx, pieces(await readFile(archive), 1 << 20), { references: keepNames });
    expect(result.images.map((i) => i.name)).toEqual(["example.test/tiny:docker"]);
    const target = result.images[0]!.target;
    expect(target.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    const manifest = JSON.parse((await collect(meta.content.read(ctx, target.digest))).toString()) as {
      config: { digest: string; mediaType: string };
      layers: { digest: string; mediaType: string; size: number }[];
    };
    expect(manifest.config).toMatchObject({ digest: fixtures.tiny.config, mediaType: "application/vnd.docker.container.image.v1+json" });
    // docker-archive holds layers uncompressed: each layer is its own diff ID.
    const config = JSON.parse(fixtureBlob("tiny", fixtures.tiny.config!).toString()) as { rootfs: { diff_ids: string[] } };
    expect(manifest.layers.map((l) => l.digest)).toEqual(config.rootfs.diff_ids);
    expect(manifest.layers[0]!.mediaType).toBe("application/vnd.docker.image.rootfs.diff.tar");
    expect((await meta.content.info(ctx, manifest.layers[0]!.digest)).size).toBe(manifest.layers[0]!.size);
  });

  it("exports an index with the host platform's manifest only, unless all platforms are asked for", async () => {
    const { stores } = await newStores();
    const { image } = await pullImage(stores, ctx, ociLayoutSource(fixtureLayout("tiny-multiarch"), "example.test/m:latest"), { platform: "all" });
    const arm64 = fixtures["tiny-multiarch"].manifests!.find((m) => m.platform["architecture"] === "arm64")!.digest;
    const names = async (opts: Parameters<typeof exportArchive>[3]) => {
      const out: string[] = [];
      for await (const { entry } of readTar([await collect(exportArchive(stores.content, ctx, [image], opts))])) out.push(entry.name);
      return out;
    };
    const host = await names({});
    expect(host).toContain(`blobs/sha256/${fixtures["tiny-multiarch"].digest.slice(7)}`);
    expect(host).toContain(`blobs/sha256/${fixtures.tiny.digest.slice(7)}`);
    expect(host).not.toContain(`blobs/sha256/${arm64.slice(7)}`);
    expect(await names({ allPlatforms: true })).toContain(`blobs/sha256/${arm64.slice(7)}`);
    expect(await names({ platforms: [parsePlatform("linux/arm64")] })).toContain(`blobs/sha256/${arm64.slice(7)}`);

    // The host-only archive imports for the host platform.
    const tar = await collect(exportArchive(stores.content, ctx, [image]));
    const fresh = await newStores();
    const result = await importArchive(fresh.stores, ctx, pieces(tar), { references: keepNames, platform: parsePlatform("linux/amd64") });
    expect(result.images.map((i) => i.target.digest)).toEqual([fixtures["tiny-multiarch"].digest]);
  });

  it("refuses a blob whose bytes do not match its name, and a truncated archive, leaving no ingest behind", async () => {
    const { stores } = await newStores();
    const { image } = await pullImage(stores, ctx, ociLayoutSource(fixtureLayout("tiny"), "example.test/tiny:bad"));
    const tar = await collect(exportArchive(stores.content, ctx, [image]));
    const fresh = await newStores();

    const layer = fixtures.tiny.layers![0]!;
    const corrupt = Buffer.from(tar);
    const at = corrupt.indexOf(fixtureBlob("tiny", layer.digest).subarray(0, 64));
    corrupt[at + 1000] = corrupt[at + 1000]! ^ 0xff;
    const bad = await importArchive(fresh.stores, ctx, pieces(corrupt), { references: keepNames }).catch((e: unknown) => e as Error);
    expect(classOf(bad), String(bad)).toBe("FailedPrecondition");
    expect((bad as Error).message).toContain(`archive file blobs/sha256/${layer.digest.slice(7)}`);
    await expect(fresh.backend.info(ctx, layer.digest)).rejects.toSatisfy((e) => classOf(e) === "NotFound");

    const cut = await importArchive(fresh.stores, ctx, pieces(tar.subarray(0, at + 5000)), { references: keepNames }).catch((e: unknown) => e as Error);
    expect(String(cut)).toContain("unexpected end of the tar stream");
    expect(await fresh.stores.content.listStatuses(ctx, [])).toEqual([]);
  });
});
