import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ensureFixtureImages,
  exec,
  fixtureBlob,
  fixtureLayout,
  mountsBelow,
  requireRoot,
  startProxy,
  startRegistry,
  type FixtureSummary,
  type TestRegistry,
} from "../src/index.js";

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
const ACCEPT = "application/vnd.oci.image.manifest.v1+json";

describe("@berth/testing", () => {
  let fixtures: FixtureSummary;
  let registry: TestRegistry;
  beforeAll(async () => {
    requireRoot();
    fixtures = await ensureFixtureImages();
    registry = await startRegistry({ images: ["tiny"], auth: { users: { alice: "s3cret" } } });
  }, 180_000);
  afterAll(() => registry?.stop());

  it("locates the fixture layouts and their summary", async () => {
    expect(existsSync(join(fixtureLayout("multi"), "index.json"))).toBe(true);
    expect(fixtures.multi.layers).toHaveLength(6);
    const manifest = JSON.parse(fixtureBlob("tiny", fixtures.tiny.digest).toString()) as { config: { digest: string } };
    expect(manifest.config.digest).toBe(fixtures.tiny.config);
  });

  it("serves pushed images behind basic auth: 401 without the password, the manifest with it", async () => {
    const url = `http://${registry.host}/v2/tiny/manifests/latest`;
    expect((await fetch(url, { headers: { accept: ACCEPT } })).status).toBe(401);
    expect((await fetch(url, { headers: { accept: ACCEPT, authorization: basic("alice", "wrong") } })).status).toBe(401);
    const ok = await fetch(url, { headers: { accept: ACCEPT, authorization: basic("alice", "s3cret") } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("docker-content-digest")).toBe(fixtures.tiny.digest);
  });

  it("the proxy counts the bytes it serves, fails on demand and cuts a body short", async () => {
    const proxy = await startProxy(registry.host);
    try {
      const layer = fixtures.tiny.layers![0]!;
      const url = `http://${proxy.host}/v2/tiny/blobs/${layer.digest}`;
      const auth = { authorization: basic("alice", "s3cret") };
      proxy.fail(1, (r) => r.url?.includes("/blobs/") === true, 503);
      expect((await fetch(url, { headers: auth })).status).toBe(503);
      const whole = await fetch(url, { headers: auth });
      expect((await whole.arrayBuffer()).byteLength).toBe(layer.size);
      proxy.cut(1000, (r) => r.url?.includes("/blobs/") === true);
      await expect(fetch(url, { headers: auth }).then((r) => r.arrayBuffer())).rejects.toThrow();
      expect(proxy.requests.map((r) => r.status)).toEqual([503, 200, 200]);
      expect(proxy.bytesServed(layer.digest)).toBe(layer.size + 1000);
    } finally {
      await proxy.close();
    }
  });

  it("mountsBelow lists what a test left mounted, deepest first", async () => {
    const dir = await mkdtemp(join(tmpdir(), "berth-testing-"));
    try {
      await mkdir(join(dir, "a"));
      await exec("mount", ["-t", "tmpfs", "tmpfs", join(dir, "a")]);
      await mkdir(join(dir, "a", "b"));
      await exec("mount", ["-t", "tmpfs", "tmpfs", join(dir, "a", "b")]);
      expect(await mountsBelow(dir)).toEqual([join(dir, "a", "b"), join(dir, "a")]);
      expect(await mountsBelow(join(dir, "a", "b"))).toEqual([join(dir, "a", "b")]);
    } finally {
      for (const target of await mountsBelow(dir)) await exec("umount", [target]);
      await rm(dir, { recursive: true, force: true });
    }
    expect(await readFile("/proc/self/mountinfo", "utf8")).not.toContain(dir);
  });
});
