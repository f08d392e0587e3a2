// A proxy plugin whose socket has nobody behind it: every call fails at once with Unavailable
// naming the plugin (no waiting for it to come up), for each kind of proxy.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { classOf, type ContentStore, type Differ, type OpContext, type Snapshotter } from "@berth/core";
import { openProxyPlugin, type OpenedProxy } from "../src/index.js";

const ctx: OpContext = { namespace: "default" };
let dir: string;
const opened: OpenedProxy[] = [];
const open = (type: "snapshot" | "content" | "diff") => {
  const p = openProxyPlugin({ type, id: `nobody-${type}`, address: join(dir, "nobody.sock") });
  opened.push(p);
  return p;
};
const failure = (p: Promise<unknown>) => p.then(() => undefined, (err: unknown) => err);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-proxy-"));
});
afterAll(async () => {
  for (const p of opened) p.close();
  await rm(dir, { recursive: true, force: true });
});

it("a snapshotter proxy with no server answers Unavailable, naming itself", async () => {
  const p = open("snapshot");
  expect(p.type.uri).toBe("io.containerd.snapshotter.v1");
  expect(p.meta.exports["address"]).toBe(join(dir, "nobody.sock"));
  const err = await failure((p.instance as Snapshotter).prepare(ctx, "k", ""));
  expect(classOf(err)).toBe("Unavailable");
  expect(String(err)).toContain("proxy plugin nobody-snapshot");
  const walked = failure((async () => {
    for await (const _ of (p.instance as Snapshotter).walk(ctx, [])) void _;
  })());
  expect(classOf(await walked)).toBe("Unavailable");
});

it("content and diff proxies with no server answer Unavailable", async () => {
  const content = open("content").instance as ContentStore;
  expect(classOf(await failure(content.info(ctx, `sha256:${"0".repeat(64)}`)))).toBe("Unavailable");
  expect(classOf(await failure(content.writer(ctx, { ref: "r" })))).toBe("Unavailable");
  const differ = open("diff").instance as Differ;
  expect(classOf(await failure(differ.apply(ctx, { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: `sha256:${"0".repeat(64)}`, size: 0 }, [])))).toBe("Unavailable");
});

it("refuses an unknown type", () => {
  expect(() => openProxyPlugin({ type: "runtime" as "snapshot", id: "x", address: "/x.sock" })).toThrow(/unsupported proxy plugin type/);
});
