// `berth images push|export|import|check` end to end: berthd (in this process, the real plugin
// set) pushes to Debian's docker-registry, writes archives to and reads them from the CLI over
// Streaming streams with window flow control, and the CLI checks what is stored and unpacked.
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentApi, imagesApi } from "@berth/api";
import { createClient, type BerthClient } from "@berth/client";
import { classOf } from "@berth/core";
import { startDaemon, type Daemon } from "@berth/daemon";
import { readTar } from "@berth/differ";
import {
  ensureFixtureImages,
  exec,
  fixtureLayout,
  requireRoot,
  requireTool,
  startProxy,
  startRegistry,
  startTestDaemon,
  type FixtureSummary,
  type TestDaemon,
  type TestRegistry,
} from "@berth/testing";
import { runCli } from "../src/index.js";
import { imagePlugins } from "./helpers/image-plugins.js";

const MANIFEST_ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json";

describe("berth images push, export, import and check, through berthd", () => {
  let fixtures: FixtureSummary;
  let registry: TestRegistry;
  let berthd: TestDaemon<Daemon>;
  let client: BerthClient;
  let dir: string;

  beforeAll(async () => {
    requireRoot("berthd locks its root and unpacks with mounts");
    await requireTool("skopeo", "skopeo");
    fixtures = await ensureFixtureImages();
    registry = await startRegistry({ images: ["multi", "tiny"] });
    berthd = await startTestDaemon((o) => startDaemon({ ...o, plugins: imagePlugins }));
    client = createClient({ address: berthd.address, timeoutMs: 60_000 });
    dir = await mkdtemp(join(tmpdir(), "berth-images-transfer-"));
  }, 180_000);

  afterAll(async () => {
    client?.close();
    await berthd?.dispose();
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  /** Runs `berth -a <socket> …argv`, collecting what it prints. */
  async function berth(...argv: string[]): Promise<{ code: number; out: string }> {
    let out = "";
    const code = await runCli(["-a", berthd.address, ...argv], { out: (t) => (out += t), err: (t) => (out += t), env: {}, signal: new AbortController().signal });
    return { code, out };
  }

  async function ok(...argv: string[]): Promise<string> {
    const { code, out } = await berth(...argv);
    expect(code, out).toBe(0);
    return out;
  }

  /** The check table's row for `name`, split in columns. */
  async function checkRow(namespace: string, name: string): Promise<string[]> {
    const out = await ok("-n", namespace, "images", "check", `name==${name}`);
    const line = out.split("\n").find((l) => l.startsWith(`${name} `));
    expect(line, out).toBeDefined();
    return line!.split(/\s{2,}/);
  }

  /** What the registry answers for a manifest: its digest, computed from the bytes it serves. */
  async function registryManifestDigest(host: string, repo: string, tag: string): Promise<string> {
    const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { headers: { accept: MANIFEST_ACCEPT } });
    expect(res.status).toBe(200);
    return `sha256:${createHash("sha256").update(Buffer.from(await res.arrayBuffer())).digest("hex")}`;
  }

  it("push: multi under a new name, layers mounted from its own repository; the registry serves the same digests and it pulls back", async () => {
    const proxy = await startProxy(registry.host);
    try {
      const source = `${proxy.host}/multi:latest`;
      await ok("images", "pull", "--plain-http", "--skip-unpack", source);
      const target = `${proxy.host}/copies/multi:v2`;
      const out = await ok("images", "push", "--plain-http", target, source);
      expect(out.startsWith(`Pushing to ${target}\n`), out).toBe(true);
      expect(out).toContain(`${fixtures.multi.layers![2]!.digest.slice(0, 19)}: mounted`);
      expect(out.trimEnd().endsWith(`Completed push to ${target}`), out).toBe(true);
      // No layer bytes went up: every layer was linked by the registry from multi's repository.
      const uploads = proxy.requests.filter((r) => r.method === "PUT" && r.path.includes("/blobs/uploads/"));
      expect(uploads).toEqual([]);

      expect(await registryManifestDigest(registry.host, "copies/multi", "v2")).toBe(fixtures.multi.digest);
      for (const layer of fixtures.multi.layers!) {
        const head = await fetch(`http://${registry.host}/v2/copies/multi/blobs/${layer.digest}`, { method: "HEAD" });
        expect(head.status, layer.digest).toBe(200);
        expect(Number(head.headers.get("content-length"))).toBe(layer.size);
      }

      // Pulled back by its new name into another namespace, unpacked.
      await ok("-n", "pushed-back", "images", "pull", "--plain-http", target);
      const { image } = await client.withNamespace("pushed-back").service(imagesApi.Images).get({ name: target });
      expect(image?.target?.digest).toBe(fixtures.multi.digest);
      const row = await checkRow("pushed-back", target);
      expect(row.slice(3)).toEqual(["complete (7/7)", "148.9 MiB/148.9 MiB", "true"]);
    } finally {
      await proxy.close();
    }
  }, 300_000);

  it("push to a registry with basic auth: credentials only when asked, a wrong password is Unauthenticated", async () => {
    const guarded = await startRegistry({ auth: { users: { alice: "s3cret" } } });
    try {
      const local = `${registry.host}/tiny:latest`;
      await ok("-n", "auth", "images", "pull", "--plain-http", "--skip-unpack", local);
      const target = `${guarded.host}/private/tiny:v1`;
      const err = await berth("-n", "auth", "images", "push", "--plain-http", "--user", "alice:wrong", target, local).then(
        (r) => new Error(`expected a failure, got ${r.code}: ${r.out}`),
        (e: unknown) => e as Error,
      );
      expect(classOf(err), err.message).toBe("Unauthenticated");
      expect(err.message).toContain('user "alice"');
      await ok("-n", "auth", "images", "push", "--plain-http", "--user", "alice:s3cret", target, local);
      const res = await fetch(`http://${guarded.host}/v2/private/tiny/manifests/v1`, {
        method: "HEAD",
        headers: { accept: MANIFEST_ACCEPT, authorization: `Basic ${Buffer.from("alice:s3cret").toString("base64")}` },
      });
      expect(res.headers.get("docker-content-digest")).toBe(fixtures.tiny.digest);
    } finally {
      await guarded.stop();
    }
  }, 120_000);

  it("export tiny to a file, import it into another namespace: the same digests, unpacked", async () => {
    const ref = `${registry.host}/tiny:latest`;
    await ok("images", "pull", "--plain-http", ref);
    const file = join(dir, "tiny.tar");
    await ok("images", "export", file, ref);
    const names: string[] = [];
    for await (const { entry } of readTar([await readFile(file)])) names.push(entry.name);
    expect(names).toEqual(expect.arrayContaining(["oci-layout", "index.json", "manifest.json", `blobs/sha256/${fixtures.tiny.layers![0]!.digest.slice(7)}`]));

    const out = await ok("-n", "imported", "images", "import", file);
    expect(out).toContain(`saved ${ref}`);
    const { image } = await client.withNamespace("imported").service(imagesApi.Images).get({ name: ref });
    expect(image?.target?.digest).toBe(fixtures.tiny.digest);
    expect((await checkRow("imported", ref)).slice(3)).toEqual(["complete (2/2)", "1011.3 KiB/1011.3 KiB", "true"]);
  }, 120_000);

  it("a failed export leaves no file", async () => {
    const file = join(dir, "missing.tar");
    const err = await berth("images", "export", file, "example.test/no-such-image:1").then(
      (r) => new Error(`expected a failure, got ${r.code}: ${r.out}`),
      (e: unknown) => e as Error,
    );
    expect(err.message).toContain("example.test/no-such-image:1");
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
  });

  it("imports a docker-archive made by skopeo and unpacks its plain-tar layer", async () => {
    const archive = join(dir, "tiny-docker.tar");
    await exec("skopeo", ["copy", `oci:${fixtureLayout("tiny")}:latest`, `docker-archive:${archive}:example.test/tiny:docker`]);
    const out = await ok("-n", "docker", "images", "import", archive);
    expect(out).toContain("saved example.test/tiny:docker");
    const { image } = await client.withNamespace("docker").service(imagesApi.Images).get({ name: "example.test/tiny:docker" });
    expect(image?.target?.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    const row = await checkRow("docker", "example.test/tiny:docker");
    expect(row.slice(3, 4)).toEqual(["complete (2/2)"]);
    expect(row.at(-1)).toBe("true");
  }, 120_000);

  it("check: incomplete once a layer is gone, not unpacked when pulled without unpacking; -q lists only ready images", async () => {
    const ref = `${registry.host}/tiny:latest`;
    const ns = "checked";
    await ok("-n", ns, "images", "pull", "--plain-http", "--skip-unpack", ref);
    expect((await checkRow(ns, ref)).slice(3)).toEqual(["complete (2/2)", "1011.3 KiB/1011.3 KiB", "false"]);
    expect(await ok("-n", ns, "images", "check", "-q")).toBe("");
    await ok("-n", ns, "images", "pull", "--plain-http", ref);
    expect(await ok("-n", ns, "images", "check", "-q")).toBe(`${ref}\n`);

    await client.withNamespace(ns).service(contentApi.Content).delete({ digest: fixtures.tiny.layers![0]!.digest });
    const row = await checkRow(ns, ref);
    expect(row[3]).toBe("incomplete (1/2)");
    expect(row[4]).toMatch(/^\d+\.0 B\/1011\.3 KiB$/);
  }, 120_000);
});
