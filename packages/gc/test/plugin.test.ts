// The registration: what plugins.ts exports, how its TOML settings decode, and the scheduler
// it makes over the loaded metadata store.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  GcPlugin,
  decodePluginConfigs,
  isPluginRegistration,
  loadPlugins,
  silentLogger,
  type PluginRegistration,
} from "@berth/core";
import { localContentPlugin } from "@berth/content-local";
import { lmdbMetadataPlugin } from "@berth/metadata-lmdb";
import * as registrations from "../src/plugins.js";
import { gcSchedulerPlugin } from "../src/index.js";
import { afterThisTest, tempDir } from "./world.js";

const URI = "io.containerd.gc.v1.scheduler";

async function load(tables: Record<string, unknown> = {}) {
  const root = await tempDir();
  const plugins = [localContentPlugin, lmdbMetadataPlugin, gcSchedulerPlugin] as PluginRegistration[];
  const { configs } = decodePluginConfigs(plugins, tables, "test.toml");
  const loaded = await loadPlugins({
    plugins,
    configs,
    disabled: [],
    required: [URI],
    daemon: { root, state: join(root, "state"), grpcAddress: "", ttrpcAddress: "" },
    log: silentLogger,
  });
  afterThisTest(() => loaded.close());
  return loaded;
}

describe(URI, () => {
  it("is the only registration plugins.ts exports", () => {
    const regs = Object.values(registrations).filter(isPluginRegistration);
    expect(regs.map((r) => `${r.type.uri}.${r.id}`)).toEqual([URI]);
    expect(Object.keys(registrations)).toEqual(["gcSchedulerPlugin"]);
  });

  it("has containerd's defaults", () => {
    const { configs } = decodePluginConfigs([gcSchedulerPlugin] as PluginRegistration[], {}, "test.toml");
    expect(configs.get(URI)).toEqual({ pauseThreshold: 0.02, deletionThreshold: 0, mutationThreshold: 100, scheduleDelay: 0, startupDelay: 100 });
  });

  it("decodes containerd's keys, floats and durations included", () => {
    const tables = { [URI]: { pause_threshold: 0.1, deletion_threshold: 2, mutation_threshold: 0, schedule_delay: "5ms", startup_delay: "1s" } };
    const { configs } = decodePluginConfigs([gcSchedulerPlugin] as PluginRegistration[], tables, "test.toml");
    expect(configs.get(URI)).toEqual({ pauseThreshold: 0.1, deletionThreshold: 2, mutationThreshold: 0, scheduleDelay: 5, startupDelay: 1000 });
    expect(() => decodePluginConfigs([gcSchedulerPlugin] as PluginRegistration[], { [URI]: { pause_threshold: "fast" } }, "test.toml")).toThrow(ConfigError);
  });

  it("loads over the metadata store, exports its settings, and collects", async () => {
    const loaded = await load({ [URI]: { startup_delay: "0s", deletion_threshold: 7 } });
    expect(loaded.statuses().find((s) => s.uri === URI)?.state).toBe("ok");
    const status = loaded.statuses().find((s) => s.uri === URI)!;
    expect(status.meta.exports).toMatchObject({ PauseThreshold: "0.02", DeletionThreshold: "7", MutationThreshold: "100", ScheduleDelay: "0ms" });
    const gc = loaded.get(GcPlugin, "scheduler")!;
    const stats = await gc.collect();
    expect(stats.records).toEqual({ images: 0, leases: 0, content: 0, ingests: 0, snapshots: 0 });
    expect(gc.metrics().collections.success).toBe(1);
  });
});
