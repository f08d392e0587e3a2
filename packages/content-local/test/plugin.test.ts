import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ContentPlugin, decodePluginConfigs, loadPlugins, pluginUri, silentLogger } from "@berth/core";
import * as registrations from "../src/plugins.js";
import { localContentPlugin } from "../src/index.js";
import { blob, ctx, tempRoot, writeBlob } from "./helpers.js";

describe("plugin", () => {
  it("is io.containerd.content.v1.content and the only registration in plugins.ts", () => {
    expect(pluginUri(localContentPlugin)).toBe("io.containerd.content.v1.content");
    expect(localContentPlugin.type).toBe(ContentPlugin);
    expect(Object.values(registrations)).toEqual([localContentPlugin]);
  });

  it("decodes ingest_expiry from TOML durations, default 0 (never)", () => {
    const uri = "io.containerd.content.v1.content";
    const decoded = decodePluginConfigs([localContentPlugin], { [uri]: { ingest_expiry: "24h" } }, "test.toml");
    expect(decoded.configs.get(uri)).toEqual({ ingestExpiry: 24 * 3_600_000 });
    expect(decodePluginConfigs([localContentPlugin], {}, "test.toml").configs.get(uri)).toEqual({ ingestExpiry: 0 });
    expect(() => decodePluginConfigs([localContentPlugin], { [uri]: { ingest_expiry: "soon" } }, "t.toml")).toThrow(/ingest_expiry/);
  });

  it("loads through the loader, keeping blobs under <root>/io.containerd.content.v1.content", async () => {
    const root = await tempRoot();
    const loaded = await loadPlugins({
      plugins: [localContentPlugin],
      configs: new Map(),
      disabled: [],
      required: ["io.containerd.content.v1.content"],
      daemon: { root, state: join(root, "state"), grpcAddress: "", ttrpcAddress: "" },
      log: silentLogger,
    });
    const status = loaded.statuses()[0]!;
    expect(status.state).toBe("ok");
    expect(status.meta.exports).toEqual({ root: join(root, "io.containerd.content.v1.content") });
    const store = loaded.get(ContentPlugin, "content")!;
    const { data, digest } = blob(10);
    await writeBlob(store, "p", data);
    expect(await readdir(join(root, "io.containerd.content.v1.content", "blobs", "sha256"))).toEqual([digest.slice(7)]);
    expect((await store.info(ctx, digest)).size).toBe(10);
    await loaded.close();
  });
});
