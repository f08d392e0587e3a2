// runtime.v1.ImageService against a real berthd: pulls from Debian's docker-registry with the
// fixture images, unpacked into overlayfs, checked through the CRI and through Debian's ctr.
import { statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classOf } from "@berth/core";
import { ensureFixtureImages, imagesDir, requireTool, startRegistry, type FixtureSummary, type TestRegistry } from "@berth/testing";
import { startCriDaemon, type CriDaemon } from "./cri-daemon.js";
import { pushUserImage } from "./user-images.js";

const rejection = async (p: Promise<unknown>) => p.then(() => { throw new Error("expected a rejection"); }, (err: unknown) => err);

describe("CRI ImageService", () => {
  let fixtures: FixtureSummary;
  let registry: TestRegistry;
  let cri: CriDaemon;
  let tinyRef: string;

  beforeAll(async () => {
    await requireTool("ctr", "containerd");
    fixtures = await ensureFixtureImages();
    registry = await startRegistry({ images: ["tiny"] });
    tinyRef = `${registry.host}/tiny:latest`;
    await pushUserImage(registry.host, "user-uid", "1003:1004", fixtures);
    await pushUserImage(registry.host, "user-name", "www-data", fixtures);
    // The sandbox image is pinned: use the user-name image as this daemon's sandbox image.
    cri = await startCriDaemon(() => ({ sandbox_image: `${registry.host}/user-name:latest` }));
  }, 180_000);

  afterAll(async () => {
    await cri?.dispose();
    await registry?.stop();
  }, 120_000);

  const status = (image: string, verbose = false) => cri.images.imageStatus({ image: { image }, verbose });

  it("PullImage by tag returns the config digest and names the image as containerd's CRI does", async () => {
    const tiny = fixtures.tiny;
    const { imageRef } = await cri.images.pullImage({ image: { image: tinyRef } });
    expect(imageRef).toBe(tiny.config);

    const { stdout } = await cri.berthd.ctr("-n", "k8s.io", "images", "ls");
    const lines = stdout.trim().split("\n").slice(1);
    const names = lines.map((l) => l.split(/\s+/)[0]).sort();
    expect(names).toEqual([tiny.config, `${registry.host}/tiny:latest`, `${registry.host}/tiny@${tiny.digest}`].sort());
    for (const line of lines) expect(line).toContain("io.cri-containerd.image=managed");
  });

  it("unpacks into overlayfs: the top chain ID is a committed snapshot in k8s.io", async () => {
    const { image, info } = await status(tinyRef, true);
    const chainId = (JSON.parse(info["info"]!) as { chainID: string }).chainID;
    expect(image?.id).toBe(fixtures.tiny.config);
    const { stdout } = await cri.berthd.ctr("-n", "k8s.io", "snapshots", "--snapshotter", "overlayfs", "info", chainId);
    expect((JSON.parse(stdout) as { Kind: string }).Kind).toBe("Committed");
  });

  it("ListImages shows one image per ID with repo tags, repo digests and size", async () => {
    const { images } = await cri.images.listImages({});
    const tiny = images.find((i) => i.id === fixtures.tiny.config);
    expect(tiny).toBeDefined();
    expect(tiny!.repoTags).toEqual([tinyRef]);
    expect(tiny!.repoDigests).toEqual([`${registry.host}/tiny@${fixtures.tiny.digest}`]);
    const blobSize = (digest: string) => statSync(join(imagesDir, "tiny", "blobs", "sha256", digest.slice(7))).size;
    expect(Number(tiny!.size)).toBe(blobSize(fixtures.tiny.digest) + blobSize(fixtures.tiny.config!) + fixtures.tiny.layers![0]!.size);
    expect(tiny!.pinned).toBe(false);
    const filtered = await cri.images.listImages({ filter: { image: { image: tinyRef } } });
    expect(filtered.images.map((i) => i.id)).toEqual([fixtures.tiny.config]);
  });

  it("ImageStatus finds the image by tag, short name forms, ID, ID prefix and repo digest", async () => {
    const id = fixtures.tiny.config!;
    for (const ref of [tinyRef, `${registry.host}/tiny`, id, id.slice(7, 19), id.slice(0, 19), `${registry.host}/tiny@${fixtures.tiny.digest}`]) {
      expect((await status(ref)).image?.id, ref).toBe(id);
    }
    expect((await status(`${registry.host}/tiny:other`)).image).toBeUndefined();
    expect((await status("sha256:" + "0".repeat(64))).image).toBeUndefined();
  });

  it("PullImage by digest names it by repo digest only", async () => {
    const byDigest = `${registry.host}/tiny@${fixtures.tiny.digest}`;
    expect((await cri.images.pullImage({ image: { image: byDigest } })).imageRef).toBe(fixtures.tiny.config);
    const { image } = await status(byDigest);
    expect(image?.repoTags).toEqual([tinyRef]);
    expect(image?.repoDigests).toEqual([byDigest]);
  });

  it("ImageStatus reports the config's User as uid or username", async () => {
    await cri.images.pullImage({ image: { image: `${registry.host}/user-uid:latest` } });
    const byUid = (await status(`${registry.host}/user-uid:latest`)).image;
    expect(byUid?.uid?.value).toBe(1003n);
    expect(byUid?.username).toBe("");

    await cri.images.pullImage({ image: { image: `${registry.host}/user-name` } });
    const byName = (await status(`${registry.host}/user-name:latest`)).image;
    expect(byName?.uid).toBeUndefined();
    expect(byName?.username).toBe("www-data");
    // It is the configured sandbox image, hence pinned.
    expect(byName?.pinned).toBe(true);
    const tiny = (await status(tinyRef)).image;
    expect(tiny?.uid).toBeUndefined();
    expect(tiny?.username).toBe("");
  });

  it("ImageFsInfo reports the overlayfs snapshotter's usage", async () => {
    const { imageFilesystems } = await cri.images.imageFsInfo({});
    expect(imageFilesystems).toHaveLength(1);
    const fs = imageFilesystems[0]!;
    expect(fs.fsId?.mountpoint).toBe(`${cri.berthd.dir}/root/io.containerd.snapshotter.v1.overlayfs`);
    // tiny's layer unpacks to about 1 MB (static busybox) in one snapshot shared by all three images.
    expect(Number(fs.usedBytes?.value)).toBeGreaterThan(1_000_000);
    expect(Number(fs.inodesUsed?.value)).toBeGreaterThan(10);
    expect(fs.timestamp).toBeGreaterThan(0n);
  });

  it("RemoveImage removes every name of the image, and again is no error", async () => {
    const ref = `${registry.host}/user-uid:latest`;
    const id = (await status(ref)).image!.id;
    await cri.images.removeImage({ image: { image: ref } });
    expect((await status(ref)).image).toBeUndefined();
    expect((await status(id)).image).toBeUndefined();
    const { stdout } = await cri.berthd.ctr("-n", "k8s.io", "images", "ls", "-q");
    expect(stdout).not.toContain("user-uid");
    expect(stdout).not.toContain(id);
    await cri.images.removeImage({ image: { image: ref } });
    // The other images stay.
    expect((await status(tinyRef)).image?.id).toBe(fixtures.tiny.config);
  });

  it("refuses bad references: malformed is InvalidArgument, unknown is NotFound", async () => {
    expect(classOf(await rejection(cri.images.pullImage({ image: { image: "Not/A:Valid:Ref" } })))).toBe("InvalidArgument");
    expect(classOf(await rejection(cri.images.pullImage({ image: { image: "" } })))).toBe("InvalidArgument");
    expect(classOf(await rejection(cri.images.pullImage({ image: { image: `${registry.host}/tiny:no-such-tag` } })))).toBe("NotFound");
    expect(classOf(await rejection(cri.images.imageStatus({ image: { image: "" } })))).toBe("InvalidArgument");
  });

});
