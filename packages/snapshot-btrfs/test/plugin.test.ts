import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { decodePluginConfigs, loadPlugins, pluginUri, silentLogger, SnapshotPlugin } from "@berth/core";
import * as registrations from "../src/plugins.js";
import { btrfsPlugin } from "../src/index.js";
import { ctx, useLoopBtrfs } from "./harness.js";

const URI = "io.containerd.snapshotter.v1.btrfs";
const loop = useLoopBtrfs();
const roots: string[] = [];
afterEach(async () => {
  for (const r of roots.splice(0)) await rm(r, { recursive: true, force: true });
});

async function load(config: Record<string, unknown>) {
  const root = await mkdtemp(join(tmpdir(), "berth-btrfs-plugin-"));
  roots.push(root);
  const decoded = decodePluginConfigs([btrfsPlugin], { [URI]: config }, "test.toml");
  const loaded = await loadPlugins({
    plugins: [btrfsPlugin],
    configs: decoded.configs,
    disabled: [],
    required: [],
    daemon: { root, state: join(root, "state"), grpcAddress: "", ttrpcAddress: "" },
    log: silentLogger,
  });
  return { root, loaded };
}

describe("btrfs plugin", () => {
  it("is io.containerd.snapshotter.v1.btrfs and the only registration in plugins.ts", () => {
    expect(pluginUri(btrfsPlugin)).toBe(URI);
    expect(btrfsPlugin.type).toBe(SnapshotPlugin);
    expect(Object.values(registrations)).toEqual([btrfsPlugin]);
  });

  it("is skipped, with the reason, when its root is on ext4", async () => {
    const { root, loaded } = await load({});
    const status = loaded.statuses()[0]!;
    expect(status.state).toBe("skip");
    expect(status.error?.message).toBe(`skip plugin: root ${join(root, URI)} is not a btrfs filesystem (it is ext4)`);
    await loaded.close();
  });

  it("loads on a btrfs root_path and exports it", async () => {
    const rootPath = join(loop().mountPoint, "plugin-root");
    const { loaded } = await load({ root_path: rootPath });
    const status = loaded.statuses()[0]!;
    expect(status.state).toBe("ok");
    expect(status.meta.exports).toEqual({ root: rootPath });
    const s = loaded.get(SnapshotPlugin, "btrfs")!;
    await s.prepare(ctx, "a", "");
    expect((await s.stat(ctx, "a")).kind).toBe("active");
    await loaded.close();
    await expect(s.stat(ctx, "a")).rejects.toThrow(/closed/);
  });
});
