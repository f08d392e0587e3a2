import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { beforeEach, describe, expect, it } from "vitest";
import {
  DifferPlugin,
  MetadataPlugin,
  decodePluginConfigs,
  isPluginRegistration,
  loadPlugins,
  pluginUri,
  silentLogger,
  type PluginRegistration,
} from "@berth/core";
import { localContentPlugin } from "@berth/content-local";
import { lmdbMetadataPlugin } from "@berth/metadata-lmdb";
import * as registrations from "../src/plugins.js";
import { MEDIA_TYPE_LAYER_GZIP, walkingDifferPlugin } from "../src/index.js";
import { sha256 } from "./content.js";
import { bindMount } from "./multi.js";
import { buildTar } from "./tar-builder.js";
import { afterThisTest, requireRoot, tempDir } from "./temp.js";

describe("io.containerd.differ.v1.walking", () => {
  beforeEach(() => requireRoot());

  it("is the only registration in plugins.ts and requires metadata", () => {
    expect(Object.values(registrations).filter(isPluginRegistration)).toEqual([walkingDifferPlugin]);
    expect(pluginUri(walkingDifferPlugin)).toBe("io.containerd.differ.v1.walking");
    expect(walkingDifferPlugin.requires).toEqual([MetadataPlugin]);
  });

  it("decodes compression_level (1-9, default 6)", () => {
    const uri = "io.containerd.differ.v1.walking";
    const decode = (t: Record<string, unknown>) => decodePluginConfigs([walkingDifferPlugin], t, "t.toml").configs.get(uri);
    expect(decode({})).toEqual({ compressionLevel: 6 });
    expect(decode({ [uri]: { compression_level: 1 } })).toEqual({ compressionLevel: 1 });
    expect(() => decode({ [uri]: { compression_level: 12 } })).toThrow(/compression_level/);
  });

  it("loads over metadata and applies a layer stored in a namespace", async () => {
    const root = await tempDir();
    const plugins = [localContentPlugin, lmdbMetadataPlugin, walkingDifferPlugin] as PluginRegistration[];
    const loaded = await loadPlugins({
      plugins,
      configs: decodePluginConfigs(plugins, {}, "t.toml").configs,
      disabled: [],
      required: [],
      daemon: { root, state: join(root, "state"), grpcAddress: "", ttrpcAddress: "" },
      log: silentLogger,
    });
    afterThisTest(() => loaded.close());
    expect(loaded.statuses().map((s) => [s.uri, s.state])).toContainEqual(["io.containerd.differ.v1.walking", "ok"]);
    const differ = loaded.get(DifferPlugin, "walking")!;
    const metadata = loaded.get(MetadataPlugin, "lmdb")!;
    await metadata.namespaces.create("berth-test", {});
    const ctx = { namespace: "berth-test" };
    const blob = gzipSync(buildTar([{ name: "hello", data: "from the namespace" }]));
    const w = await metadata.content.writer(ctx, { ref: "layer", total: blob.length, expected: sha256(blob) });
    await w.write(blob);
    await w.commit(blob.length, sha256(blob));
    const target = join(root, "target");
    mkdirSync(target);
    const desc = { mediaType: MEDIA_TYPE_LAYER_GZIP, digest: sha256(blob), size: blob.length };
    await differ.apply(ctx, desc, [bindMount(target)]);
    expect(readFileSync(join(target, "hello"), "utf8")).toBe("from the namespace");
    // Another namespace does not see the blob.
    await metadata.namespaces.create("other", {});
    await expect(differ.apply({ namespace: "other" }, desc, [bindMount(target)])).rejects.toThrow(/not in the content store/);
  });
});
