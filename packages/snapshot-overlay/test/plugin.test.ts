import { access, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { decodePluginConfigs, loadPlugins, pluginUri, silentLogger, SnapshotPlugin } from "@berth/core";
import * as registrations from "../src/plugins.js";
import { overlayPlugin, probeOverlay } from "../src/index.js";
import { ctx } from "./harness.js";

const URI = "io.containerd.snapshotter.v1.overlayfs";
const roots: string[] = [];
afterEach(async () => {
  for (const r of roots.splice(0)) await rm(r, { recursive: true, force: true });
});
async function tempRoot(): Promise<string> {
  const r = await mkdtemp(join(tmpdir(), "berth-overlay-plugin-"));
  roots.push(r);
  return r;
}

async function load(root: string, config: Record<string, unknown> = {}) {
  const decoded = decodePluginConfigs([overlayPlugin], { [URI]: config }, "test.toml");
  return loadPlugins({
    plugins: [overlayPlugin],
    configs: decoded.configs,
    disabled: [],
    required: [],
    daemon: { root, state: join(root, "state"), grpcAddress: "", ttrpcAddress: "" },
    log: silentLogger,
  });
}

describe("overlayfs plugin", () => {
  it("is io.containerd.snapshotter.v1.overlayfs and the only registration in plugins.ts", () => {
    expect(pluginUri(overlayPlugin)).toBe(URI);
    expect(overlayPlugin.type).toBe(SnapshotPlugin);
    expect(Object.values(registrations)).toEqual([overlayPlugin]);
  });

  it("decodes containerd's config keys", () => {
    const toml = { root_path: "/x", upperdir_label: true, sync_remove: true, mount_options: ["volatile"] };
    const decoded = decodePluginConfigs([overlayPlugin], { [URI]: toml }, "t.toml");
    expect(decoded.configs.get(URI)).toEqual({ rootPath: "/x", upperdirLabel: true, syncRemove: true, mountOptions: ["volatile"] });
    expect(() => decodePluginConfigs([overlayPlugin], { [URI]: { sync_remove: "yes" } }, "t.toml")).toThrow(/sync_remove/);
  });

  it("loads under its root dir, exports it, adds index=off where the kernel has the index, and closes", async () => {
    const root = await tempRoot();
    const loaded = await load(root, { upperdir_label: true });
    const status = loaded.statuses()[0]!;
    expect(status.state).toBe("ok");
    expect(status.meta.exports).toEqual({ root: join(root, URI) });
    const s = loaded.get(SnapshotPlugin, "overlayfs")!;
    await s.prepare(ctx, "a", "");
    await s.commit(ctx, "A", "a");
    const [mount] = await s.view(ctx, "v", "A").then(() => s.prepare(ctx, "b", "A"));
    const hasIndex = await access("/sys/module/overlay/parameters/index").then(() => true, () => false);
    expect(mount!.options.includes("index=off")).toBe(hasIndex);
    expect((await s.stat(ctx, "A")).labels["containerd.io/snapshot/overlay.upperdir"]).toBe(join(root, URI, "snapshots", "1", "fs"));
    await access(join(root, URI, "metadata.lmdb"));
    await loaded.close();
    await expect(s.stat(ctx, "A")).rejects.toThrow(/closed/);
  });

  it("honours root_path and an explicit index option", async () => {
    const root = await tempRoot();
    const loaded = await load(root, { root_path: join(root, "elsewhere"), mount_options: ["index=on"] });
    const s = loaded.get(SnapshotPlugin, "overlayfs")!;
    await s.prepare(ctx, "a", "");
    await s.commit(ctx, "A", "a");
    const [mount] = await s.prepare(ctx, "b", "A");
    expect(mount!.options.filter((o) => o.startsWith("index"))).toEqual(["index=on"]);
    await access(join(root, "elsewhere", "metadata.lmdb"));
    expect(loaded.statuses()[0]!.meta.exports).toEqual({ root: join(root, "elsewhere") });
    await loaded.close();
  });

  it("finds overlay on this kernel, and gives a reason where a kernel has none", async () => {
    expect((await probeOverlay()).supported).toBe(true);
    const fake = join(await tempRoot(), "filesystems");
    await writeFile(fake, "nodev\tsysfs\nnodev\ttmpfs\n\text4\n");
    const probe = await probeOverlay(fake);
    expect(probe.supported).toBe(false);
    expect(probe.reason).toMatch(/no overlay filesystem/);
  });
});
