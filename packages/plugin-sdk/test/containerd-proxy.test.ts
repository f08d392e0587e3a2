// The same SDK server as a [proxy_plugins] snapshotter of Debian's real containerd: what a
// third-party snapshotter built on @berth/plugin-sdk must do, checked against the reference.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireRoot, startPrivateContainerd, startRegistry, type Ctr, type PrivateContainerd, type TestRegistry } from "@berth/testing";
import { rows, startProxyIn, tearDown, tempDir, type ProxyProcess } from "./helpers.js";

describe("Debian's containerd with berth-snapshotter-proxy as [proxy_plugins.berth-ovl]", () => {
  let dir: string;
  let registry: TestRegistry | undefined;
  let proxy: ProxyProcess | undefined;
  let containerd: PrivateContainerd | undefined;
  let ctr: Ctr;
  const ns = `berth-cpx-${randomBytes(3).toString("hex")}`;

  beforeAll(async () => {
    requireRoot("containerd and the proxy mount filesystems");
    dir = await tempDir("berth-cpx-");
    registry = await startRegistry({ images: ["tiny"] });
    proxy = await startProxyIn(dir);
    containerd = await startPrivateContainerd({
      extraConfig: `[proxy_plugins.berth-ovl]\n  type = "snapshot"\n  address = ${JSON.stringify(proxy.address)}`,
    });
    ctr = containerd.ctrIn(ns);
  }, 180_000);

  afterAll(() => tearDown({ dir, registry, proxy, daemon: containerd && { ctr, close: () => containerd!.stop() } }), 120_000);

  it("lists the proxy snapshotter", async () => {
    const row = rows(await ctr("plugins", "ls")).find((r) => r[0] === "io.containerd.snapshotter.v1" && r[1] === "berth-ovl");
    expect(row?.at(-1)).toBe("ok");
  });

  it("ctr images pull --snapshotter and ctr run --snapshotter work through it", async () => {
    const image = `${registry!.host}/tiny:latest`;
    await ctr("images", "pull", "--plain-http", "--snapshotter", "berth-ovl", image);
    expect(rows(await ctr("snapshots", "--snapshotter", "berth-ovl", "ls")).some((r) => r.at(-1) === "Committed")).toBe(true);
    expect(await ctr("run", "--rm", "--snapshotter", "berth-ovl", image, "c-cpx", "echo", "hi")).toBe("hi\n");
  });
});
