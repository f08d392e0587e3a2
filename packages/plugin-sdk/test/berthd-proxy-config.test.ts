// The overlay snapshotter out of process (berth-snapshotter-proxy, built from this SDK),
// configured as [proxy_plugins.ovl] of berthd: introspection lists it, and Debian's ctr pulls
// the `multi` fixture into it and runs a container from it.
import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "@berth/daemon";
import { ctrIn, requireRoot, requireTool, startRegistry, type Ctr, type TestRegistry } from "@berth/testing";
import { configIn, rows, startBerthd, startProxyIn, tearDown, tempDir, type ProxyProcess } from "./helpers.js";

describe("berthd with the overlay snapshotter as a [proxy_plugins] snapshotter", () => {
  let dir: string;
  let registry: TestRegistry | undefined;
  let proxy: ProxyProcess | undefined;
  let daemon: Daemon | undefined;
  let ctr: Ctr;
  const ns = `berth-px-${randomBytes(3).toString("hex")}`;

  beforeAll(async () => {
    requireRoot("the proxy mounts overlayfs and ctr runs containers");
    for (const tool of ["ctr", "runc", "containerd-shim-runc-v2"]) await requireTool(tool, tool === "runc" ? "runc" : "containerd");
    dir = await tempDir("berth-pxc-");
    registry = await startRegistry({ images: ["multi"] });
    proxy = await startProxyIn(dir);
    const config = configIn(dir);
    config.proxyPlugins["ovl"] = { type: "snapshot", address: proxy.address, exports: {} };
    daemon = await startBerthd(config);
    ctr = ctrIn(daemon.address, ns);
  }, 180_000);

  afterAll(() => tearDown({ dir, registry, proxy, daemon: daemon && { ctr, close: () => daemon!.close() } }), 120_000);

  it("lists the proxy as io.containerd.snapshotter.v1 ovl, ok, with its address", async () => {
    const row = rows(await ctr("plugins", "ls")).find((r) => r[0] === "io.containerd.snapshotter.v1" && r[1] === "ovl");
    expect(row?.at(-1)).toBe("ok");
    expect(await ctr("plugins", "ls", "-d", "id==ovl")).toContain(proxy!.address);
  });

  it("pulls multi into the proxy and runs a container on it", async () => {
    const image = `${registry!.host}/multi:latest`;
    await ctr("images", "pull", "--plain-http", "--snapshotter", "ovl", image);
    // The layers were unpacked by the proxy process: committed snapshots, on its disk.
    const committed = rows(await ctr("snapshots", "--snapshotter", "ovl", "ls")).filter((r) => r.at(-1) === "Committed");
    expect(committed.length).toBeGreaterThanOrEqual(6);
    expect((await readdir(join(proxy!.root, "snapshots"))).length).toBeGreaterThanOrEqual(committed.length);
    expect(await ctr("run", "--rm", "--snapshotter", "ovl", image, "c-px", "echo", "hi from the proxy")).toBe("hi from the proxy\n");
    expect(rows(await ctr("snapshots", "--snapshotter", "ovl", "ls")).some((r) => r[0] === "c-px")).toBe(false);
  });
});
