import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { classOf } from "@berth/core";
import { createCniNetworking, loadNetworkConfig } from "../src/index.js";
import { CNI_BIN_DIR, requireTools, tempDir, writeConfig } from "./helpers.js";

const bridgeList = (name: string) => ({
  cniVersion: "1.0.0",
  name,
  plugins: [{ type: "bridge", bridge: "unused0", ipam: { type: "host-local", subnet: "10.250.1.0/24" } }, { type: "loopback" }],
});

describe("loadNetworkConfig", () => {
  it("reads .conf, .conflist and .json in lexical order, the first maxConfNum of them", async () => {
    const dir = await tempDir();
    await writeConfig(dir, "20-b.conflist", bridgeList("b"));
    await writeConfig(dir, "10-a.conf", { cniVersion: "0.4.0", name: "a", type: "bridge" });
    await writeConfig(dir, "30-c.json", { cniVersion: "1.0.0", name: "c", type: "ptp" });
    await writeConfig(dir, "05-ignored.txt", "not json at all");
    await writeConfig(dir, "00-ignored.conf.bak", "{");

    expect((await loadNetworkConfig({ confDir: dir })).map((n) => n.name)).toEqual(["a"]);
    const all = await loadNetworkConfig({ confDir: dir, maxConfNum: 0 });
    expect(all.map((n) => n.name)).toEqual(["a", "b", "c"]);
    expect((await loadNetworkConfig({ confDir: dir, maxConfNum: 2 })).map((n) => n.name)).toEqual(["a", "b"]);

    const [a, b] = all;
    // A single .conf becomes a chain of one, keeping its version.
    expect(a?.plugins.map((p) => p.type)).toEqual(["bridge"]);
    expect(a?.cniVersion).toBe("0.4.0");
    expect(JSON.parse(a?.json ?? "{}").plugins).toHaveLength(1);
    expect(b?.plugins.map((p) => p.type)).toEqual(["bridge", "loopback"]);
    expect(b?.source).toBe(join(dir, "20-b.conflist"));
  });

  it("gives no networks for a missing or empty directory", async () => {
    const dir = await tempDir();
    expect(await loadNetworkConfig({ confDir: dir })).toEqual([]);
    expect(await loadNetworkConfig({ confDir: join(dir, "absent") })).toEqual([]);
  });

  it("reads declared capabilities", async () => {
    const dir = await tempDir();
    await writeConfig(dir, "10.conflist", {
      cniVersion: "1.0.0",
      name: "caps",
      plugins: [{ type: "bridge" }, { type: "portmap", capabilities: { portMappings: true, bandwidth: false } }],
    });
    const [net] = await loadNetworkConfig({ confDir: dir });
    expect([...(net?.plugins[0]?.capabilities ?? [])]).toEqual([]);
    expect([...(net?.plugins[1]?.capabilities ?? [])]).toEqual(["portMappings"]);
  });

  it.each([
    ["10-bad.conflist", "{ not json", /10-bad\.conflist/],
    ["10-bad.conflist", { cniVersion: "1.0.0", plugins: [{ type: "bridge" }] }, /10-bad\.conflist: "name" is missing/],
    ["10-bad.conflist", { cniVersion: "1.0.0", name: "x", plugins: [] }, /"plugins" is empty/],
    ["10-bad.conflist", { cniVersion: "1.0.0", name: "x", plugins: [{ bridge: "b" }] }, /plugins\[0\].*"type" is missing/],
    ["10-bad.conflist", { cniVersion: "one", name: "x", plugins: [{ type: "bridge" }] }, /"cniVersion" "one" is not a version/],
    ["10-bad.conflist", { cniVersion: "1.0.0", name: "bad name", plugins: [{ type: "bridge" }] }, /network name "bad name"/],
    ["10-bad.conf", { cniVersion: "1.0.0", name: "x", plugins: [{ type: "bridge" }] }, /10-bad\.conf: it holds a plugin list/],
    ["10-bad.conf", { cniVersion: "1.0.0", name: "x" }, /10-bad\.conf: plugin "type" is missing/],
  ])("an invalid %s is an InvalidArgument that names the file (%#)", async (file, content, message) => {
    const dir = await tempDir();
    await writeConfig(dir, file, content);
    const err = await loadNetworkConfig({ confDir: dir }).catch((e: unknown) => e);
    expect(classOf(err)).toBe("InvalidArgument");
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toContain(join(dir, file));
  });
});

describe("network status", () => {
  it("is not ready without a config, and setup says why", async () => {
    const dir = await tempDir();
    const cni = createCniNetworking({ confDir: join(dir, "net.d"), binDirs: [CNI_BIN_DIR], cacheDir: join(dir, "cache") });
    expect(cni.status()).toMatchObject({ ready: false, reason: "NotLoaded" });
    expect(await cni.load()).toEqual({ ready: false, reason: "NoNetworkConfig", message: `no network config found in ${join(dir, "net.d")}` });
    const err = await cni.setup({ containerId: "c1", netnsPath: "/nowhere" }).catch((e: unknown) => e);
    expect(classOf(err)).toBe("FailedPrecondition");
    expect((err as Error).message).toContain("no network config found");
  });

  it("is not ready with an invalid config, naming the file; and ready again once fixed", async () => {
    await requireTools(["bridge", "host-local", "loopback"]);
    const dir = await tempDir();
    const confDir = join(dir, "net.d");
    const file = await writeConfig(confDir, "10-net.conflist", '{"cniVersion": "1.0.0", "name": ');
    const cni = createCniNetworking({ confDir, binDirs: [CNI_BIN_DIR], cacheDir: join(dir, "cache") });
    const status = await cni.load();
    expect(status).toMatchObject({ ready: false, reason: "InvalidNetworkConfig" });
    expect(!status.ready && status.message).toContain(file);

    await writeConfig(confDir, "10-net.conflist", bridgeList("fixed"));
    expect(await cni.load()).toEqual({ ready: true, networks: ["fixed"] });
    expect(cni.networks().map((n) => n.name)).toEqual(["fixed"]);
  });

  it("is not ready when a plugin binary is missing from the bin dirs", async () => {
    const dir = await tempDir();
    const confDir = join(dir, "net.d");
    await writeConfig(confDir, "10.conflist", { cniVersion: "1.0.0", name: "n", plugins: [{ type: "no-such-plugin" }] });
    const cni = createCniNetworking({ confDir, binDirs: [join(dir, "bin"), CNI_BIN_DIR], cacheDir: join(dir, "cache") });
    const status = await cni.load();
    expect(status).toMatchObject({ ready: false, reason: "PluginNotFound" });
    expect(!status.ready && status.message).toMatch(/cni plugin "no-such-plugin" not found in .*bin:\/usr\/lib\/cni/);
  });

  it("puts the built-in loopback network first when asked", async () => {
    await requireTools(["bridge", "host-local", "loopback"]);
    const dir = await tempDir();
    await writeConfig(join(dir, "net.d"), "10.conflist", bridgeList("pods"));
    const cni = createCniNetworking({ confDir: join(dir, "net.d"), binDirs: [CNI_BIN_DIR], loopback: true, cacheDir: dir });
    expect(await cni.load()).toEqual({ ready: true, networks: ["cni-loopback", "pods"] });
  });
});
