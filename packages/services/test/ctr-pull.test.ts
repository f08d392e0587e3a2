// Pull end to end with Debian's ctr 1.6: ctr resolves and fetches itself, then drives Berth's
// content, images, leases, snapshots and diff services to store and unpack the image. berthd
// runs in this process with the real plugin set (content-local, metadata-lmdb, overlayfs, the
// walking differ, these services, events, streaming, transfer); the registry is Debian's
// docker-registry with the fixture images pushed by skopeo.
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localContentPlugin } from "@berth/content-local";
import { startDaemon, type Daemon } from "@berth/daemon";
import { walkingDifferPlugin } from "@berth/differ";
import { eventsGrpcPlugin, exchangePlugin } from "@berth/events";
import { lmdbMetadataPlugin } from "@berth/metadata-lmdb";
import { overlayPlugin } from "@berth/snapshot-overlay";
import { streamManagerPlugin, streamingGrpcPlugin } from "@berth/streaming";
import {
  ensureFixtureImages,
  exec,
  fixtureBlob,
  mountsBelow,
  requireRoot,
  requireTool,
  startRegistry,
  startTestDaemon,
  type FixtureSummary,
  type TestDaemon,
  type TestRegistry,
} from "@berth/testing";
import { transferGrpcPlugin } from "@berth/transfer";
import { servicePlugins } from "../src/index.js";

/** The chain ID of a layer stack (OCI image spec), computed here independently of Berth. */
function topChainId(diffIds: readonly string[]): string {
  return diffIds.reduce((chain, diffId) => (chain === "" ? diffId : `sha256:${createHash("sha256").update(`${chain} ${diffId}`).digest("hex")}`), "");
}

describe("ctr images pull against berthd", () => {
  let fixtures: FixtureSummary;
  let registry: TestRegistry;
  let berthd: TestDaemon<Daemon>;
  let ref: string;
  let mnt: string;

  beforeAll(async () => {
    requireRoot("berthd locks its root and the test mounts the unpacked image");
    await requireTool("ctr", "containerd");
    fixtures = await ensureFixtureImages();
    registry = await startRegistry({ images: ["multi"] });
    ref = `${registry.host}/multi:latest`;
    const plugins = [
      localContentPlugin,
      lmdbMetadataPlugin,
      overlayPlugin,
      walkingDifferPlugin,
      exchangePlugin,
      eventsGrpcPlugin,
      streamManagerPlugin,
      streamingGrpcPlugin,
      transferGrpcPlugin,
      ...servicePlugins,
    ];
    berthd = await startTestDaemon((o) => startDaemon({ ...o, plugins }));
    mnt = join(berthd.dir, "mnt");
  }, 180_000);

  afterAll(async () => {
    if (mnt) for (const target of await mountsBelow(mnt)) await exec("umount", [target]).catch(() => undefined);
    await berthd?.dispose();
    await registry?.stop();
  }, 120_000);

  it("pulls and unpacks multi: ctr drives the pull through Berth's services", async () => {
    const { stdout } = await berthd.ctr("images", "pull", "--plain-http", ref);
    expect(stdout).toContain(`unpacking linux/amd64 ${fixtures.multi.digest}`);
    expect(stdout).toMatch(/\ndone/);
    const listed = (await berthd.ctr("images", "ls", "-q")).stdout.trim().split("\n");
    expect(listed).toEqual([ref]);
  }, 300_000);

  it("ctr images check says the image is complete", async () => {
    const { stdout } = await berthd.ctr("images", "check");
    const line = stdout.split("\n").find((l) => l.startsWith(ref));
    expect(line, stdout).toBeDefined();
    // ctr counts the manifest's config and layers; the last column says the image is unpacked.
    const blobs = fixtures.multi.layers!.length + 1;
    expect(line).toMatch(new RegExp(`\\scomplete \\(${blobs}/${blobs}\\)\\s.*\\strue$`));
  });

  it("the snapshot of the top chain ID, mounted as ctr prints it, is multi unpacked correctly", async () => {
    const config = JSON.parse(fixtureBlob("multi", fixtures.multi.config!).toString()) as { rootfs: { diff_ids: string[] } };
    const chainId = topChainId(config.rootfs.diff_ids);
    const info = JSON.parse((await berthd.ctr("snapshots", "info", chainId)).stdout) as { Kind: string };
    expect(info.Kind).toBe("Committed");

    await berthd.ctr("snapshots", "view", "multi-view", chainId);
    const target = join(mnt, "multi");
    await mkdir(target, { recursive: true });
    const printed = (await berthd.ctr("snapshots", "mounts", target, "multi-view")).stdout;
    const lines = printed.trim().split("\n").filter((l) => l.startsWith("mount "));
    expect(lines, printed).toHaveLength(1);
    await exec("bash", ["-c", lines[0]!]);
    try {
      const at = (path: string) => join(target, path);
      const names = async (path: string) => (await readdir(at(path))).sort();
      // The facts ../shared/fixtures/README.md lists for a correct unpack of multi.
      expect(await names("data/small")).not.toContain("d001");
      await expect(stat(at("data/small/d000/f00000.txt"))).rejects.toMatchObject({ code: "ENOENT" });
      expect(await names("data/large")).toEqual(["random-40m.bin", "text-32m.b64"]);
      expect(await names("data/opaque")).toEqual(["upper-only"]);
      expect((await stat(at("data/dir-to-file"))).isFile()).toBe(true);
      expect((await readFile(at("data/dir-to-file"), "utf8")).trim()).toBe("now a file");
      await expect(stat(at("data/file-to-dir/child"))).resolves.toBeDefined();
      expect((await readFile(at("data/small/d002/f00200.txt"), "utf8")).trim()).toBe("modified in layer 5");
      const home = await stat(at("home/user"));
      expect([home.uid, home.gid]).toEqual([1000, 1000]);
      expect((await readFile(at("etc/hostname"), "utf8")).trim()).toBe("multi");
    } finally {
      await exec("umount", [target]);
    }
    await berthd.ctr("snapshots", "rm", "multi-view");
  });

  it("the config blob holds the unpacked snapshot for GC, as containerd labels it", async () => {
    const { stdout } = await berthd.ctr("content", "ls");
    const line = stdout.split("\n").find((l) => l.startsWith(fixtures.multi.config!));
    expect(line, stdout).toMatch(/containerd\.io\/gc\.ref\.snapshot\.overlayfs=sha256:[0-9a-f]{64}/);
  });
});
