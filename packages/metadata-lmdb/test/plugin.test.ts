import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ContentPlugin,
  MetadataPlugin,
  SnapshotPlugin,
  optional,
  decodePluginConfigs,
  skipPlugin,
  definePlugin,
  isPluginRegistration,
  loadPlugins,
  silentLogger,
  type PluginRegistration,
} from "@berth/core";
import * as registrations from "../src/plugins.js";
import { lmdbMetadataPlugin, type LmdbMetadataStore } from "../src/index.js";
import { expectError, ns, tempDir, writeBlob } from "./helpers.js";
import { createMemoryContentStore } from "./memory-content-store.js";
import { createMemorySnapshotter } from "./memory-snapshotter.js";

const memoryContentPlugin = definePlugin({ type: ContentPlugin, id: "memory", init: () => createMemoryContentStore() });

const memorySnapshotPlugin = definePlugin({ type: SnapshotPlugin, id: "memory", init: () => createMemorySnapshotter() });
const absentSnapshotPlugin = definePlugin({
  type: SnapshotPlugin,
  id: "absent",
  init: () => {
    throw skipPlugin("not on this host");
  },
});

async function load(tables: Record<string, unknown> = {}, extra: PluginRegistration[] = []) {
  const root = await tempDir();
  const plugins = [lmdbMetadataPlugin, memoryContentPlugin, ...extra] as PluginRegistration[];
  const { configs } = decodePluginConfigs(plugins, tables, "test.toml");
  const loaded = await loadPlugins({
    plugins,
    configs,
    disabled: [],
    required: [],
    daemon: { root, state: join(root, "state"), grpcAddress: "", ttrpcAddress: "" },
    log: silentLogger,
  });
  return { root, loaded };
}

describe("io.containerd.metadata.v1.lmdb", () => {
  it("registers only the plugin from plugins.ts", () => {
    const regs = Object.values(registrations).filter(isPluginRegistration);
    expect(regs.map((r) => `${r.type.uri}.${r.id}`)).toEqual(["io.containerd.metadata.v1.lmdb"]);
    expect(Object.keys(registrations)).toEqual(["lmdbMetadataPlugin"]);
    expect(lmdbMetadataPlugin.requires).toEqual([ContentPlugin, optional(SnapshotPlugin)]);
  });

  it("loads over the content plugin, keeps its environment in its root dir and closes it", async () => {
    const { root, loaded } = await load();
    expect(loaded.statuses().map((s) => [s.uri, s.state])).toEqual([
      ["io.containerd.content.v1.memory", "ok"],
      ["io.containerd.metadata.v1.lmdb", "ok"],
    ]);
    const store = loaded.get(MetadataPlugin, "lmdb") as LmdbMetadataStore;
    expect(existsSync(join(root, "io.containerd.metadata.v1.lmdb", "meta.lmdb"))).toBe(true);
    await writeBlob(store.content, ns("default"), "r", "via plugin");
    expect((await store.namespaces.list()).map((n) => n.name)).toEqual(["default"]);
    await loaded.close();
    await expectError(store.namespaces.create("late", {}), "Unavailable");
    await expectError(store.namespaces.list(), "Unavailable");
  });

  it("loads with no snapshotter at all, and serves every loaded snapshotter namespaced", async () => {
    const bare = await load();
    expect((bare.loaded.get(MetadataPlugin, "lmdb") as LmdbMetadataStore).snapshotters.size).toBe(0);
    await bare.loaded.close();

    const { loaded } = await load({}, [absentSnapshotPlugin, memorySnapshotPlugin] as PluginRegistration[]);
    expect(loaded.statuses().map((s) => [s.uri, s.state])).toEqual([
      ["io.containerd.content.v1.memory", "ok"],
      ["io.containerd.snapshotter.v1.absent", "skip"],
      ["io.containerd.snapshotter.v1.memory", "ok"],
      ["io.containerd.metadata.v1.lmdb", "ok"],
    ]);
    const store = loaded.get(MetadataPlugin, "lmdb") as LmdbMetadataStore;
    expect([...store.snapshotters.keys()]).toEqual(["memory"]);
    const backend = loaded.get(SnapshotPlugin, "memory") as ReturnType<typeof createMemorySnapshotter>;
    await store.snapshotters.get("memory")!.prepare(ns("default"), "k", "");
    expect([...backend.snapshots.keys()]).toEqual(["default/1/k"]);
    await loaded.close();
  });

  it("reads content_sharing_policy from TOML and rejects unknown policies", async () => {
    const isolated = await load({ "io.containerd.metadata.v1.lmdb": { content_sharing_policy: "isolated" } });
    const store = isolated.loaded.get(MetadataPlugin, "lmdb")!;
    const backend = isolated.loaded.get(ContentPlugin, "memory") as ReturnType<typeof createMemoryContentStore>;
    const { digest } = await writeBlob(store.content, ns("a"), "r", "isolated bytes");
    const w = await store.content.writer(ns("b"), { ref: "r", expected: digest });
    expect((await w.status()).offset).toBe(0);
    await w.close();
    expect(backend.ingests.size).toBe(1);
    await isolated.loaded.close();

    expect(() =>
      decodePluginConfigs([lmdbMetadataPlugin] as PluginRegistration[], { "io.containerd.metadata.v1.lmdb": { content_sharing_policy: "open" } }, "t.toml"),
    ).toThrow(/content_sharing_policy/);
  });
});
