// `berth images pull` end to end: the CLI asks berthd's Transfer service to pull, progress comes
// back on a Streaming stream, credentials on another when the registry asks. berthd runs in this
// process with the real plugin set; the registries are Debian's docker-registry with the
// fixture images pushed by skopeo.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentApi, imagesApi, snapshotsApi } from "@berth/api";
import { createClient, type BerthClient } from "@berth/client";
import { classOf } from "@berth/core";
import { startDaemon, type Daemon } from "@berth/daemon";
import {
  ensureFixtureImages,
  fixtureBlob,
  requireRoot,
  startRegistry,
  startTestDaemon,
  type FixtureSummary,
  type TestDaemon,
  type TestRegistry,
} from "@berth/testing";
import { runCli } from "../src/index.js";
import { imagePlugins } from "./helpers/image-plugins.js";

const SNAPSHOT_GC_LABEL = "containerd.io/gc.ref.snapshot.overlayfs";

/** The chain ID of a layer stack (OCI image spec), computed here independently of Berth. */
function topChainId(diffIds: readonly string[]): string {
  return diffIds.reduce((chain, diffId) => (chain === "" ? diffId : `sha256:${createHash("sha256").update(`${chain} ${diffId}`).digest("hex")}`), "");
}

describe("berth images pull, through berthd's Transfer service", () => {
  let fixtures: FixtureSummary;
  let registry: TestRegistry;
  let guarded: TestRegistry;
  let berthd: TestDaemon<Daemon>;
  let client: BerthClient;

  beforeAll(async () => {
    requireRoot("berthd locks its root and unpacks with mounts");
    fixtures = await ensureFixtureImages();
    registry = await startRegistry({ images: ["multi", "tiny-multiarch"] });
    guarded = await startRegistry({ images: ["tiny"], auth: { users: { alice: "s3cret" } } });
    berthd = await startTestDaemon((o) => startDaemon({ ...o, plugins: imagePlugins }));
    client = createClient({ address: berthd.address, timeoutMs: 60_000 });
  }, 180_000);

  afterAll(async () => {
    client?.close();
    await berthd?.dispose();
    await guarded?.stop();
    await registry?.stop();
  }, 60_000);

  /** Runs `berth -a <socket> …argv`, collecting what it prints. */
  async function berth(...argv: string[]): Promise<{ code: number; out: string }> {
    let out = "";
    const code = await runCli(["-a", berthd.address, ...argv], { out: (t) => (out += t), err: (t) => (out += t), env: {}, signal: new AbortController().signal });
    return { code, out };
  }

  const contentInfo = async (digest: string) => (await client.service(contentApi.Content).info({ digest })).info;

  it("pulls multi and unpacks it to overlayfs, printing progress", async () => {
    const ref = `${registry.host}/multi:latest`;
    const { code, out } = await berth("images", "pull", "--plain-http", ref);
    expect(code, out).toBe(0);
    const big = fixtures.multi.layers![2]!.digest.slice(0, 19);
    expect(out).toContain(`${big}: downloading`);
    expect(out).toContain(`${big}: complete`);
    expect(out).toContain(`${big}: unpacked`);
    expect(out).toContain(`${big}: verifying`);
    expect(out.startsWith(`Resolving from ${ref}\n`), out).toBe(true);
    expect(out.endsWith(`saved ${ref}\nCompleted pull from ${ref}\n`), out).toBe(true);

    const { image } = await client.service(imagesApi.Images).get({ name: ref });
    expect(image?.target?.digest).toBe(fixtures.multi.digest);
    // containerd's GC labels: the config holds the top snapshot, named by its chain ID.
    const config = JSON.parse(fixtureBlob("multi", fixtures.multi.config!).toString()) as { rootfs: { diff_ids: string[] } };
    const chainId = (await contentInfo(fixtures.multi.config!))?.labels[SNAPSHOT_GC_LABEL];
    expect(chainId).toBe(topChainId(config.rootfs.diff_ids));
    const { info } = await client.service(snapshotsApi.Snapshots).stat({ snapshotter: "overlayfs", key: chainId! });
    expect(info?.name).toBe(chainId);
    expect(info?.kind).toBe(snapshotsApi.Kind.COMMITTED);
  }, 300_000);

  it("--platform linux/arm64 selects the arm64 manifest of tiny-multiarch", async () => {
    const ref = `${registry.host}/tiny-multiarch:latest`;
    const { code, out } = await berth("images", "pull", "--plain-http", "--platform", "linux/arm64", "--skip-unpack", ref);
    expect(code, out).toBe(0);
    const manifests = fixtures["tiny-multiarch"].manifests!;
    const arm64 = manifests.find((m) => m.platform["architecture"] === "arm64")!.digest;
    const amd64 = manifests.find((m) => m.platform["architecture"] === "amd64")!.digest;
    const { image } = await client.service(imagesApi.Images).get({ name: ref });
    expect(image?.target?.digest).toBe(fixtures["tiny-multiarch"].digest);
    expect((await contentInfo(arm64))?.digest).toBe(arm64);
    // The amd64 manifest is tiny's, byte for byte; nothing here pulled tiny, so it must be absent.
    await expect(contentInfo(amd64)).rejects.toSatisfy((err) => classOf(err) === "NotFound");
  }, 120_000);

  it("a wrong registry password is a clear Unauthenticated error", async () => {
    const ref = `${guarded.host}/tiny:latest`;
    const err = await berth("images", "pull", "--plain-http", "--user", "alice:wrong", ref).then(
      (r) => new Error(`expected a failure, got ${r.code}: ${r.out}`),
      (e: unknown) => e as Error,
    );
    expect(classOf(err), err.message).toBe("Unauthenticated");
    expect(err.message).toContain(`${guarded.host} rejected the username/password of user "alice"`);
    await expect(client.service(imagesApi.Images).get({ name: ref })).rejects.toSatisfy((e) => classOf(e) === "NotFound");
  }, 120_000);
});
