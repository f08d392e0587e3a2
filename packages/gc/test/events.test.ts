// What a collection announces on the event exchange: containerd's /images/delete and
// /snapshot/remove, in the namespace of what went, and nothing for content, leases or ingests.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { eventPayloads, unpackAny } from "@berth/api";
import {
  EventPlugin,
  GcPlugin,
  MetadataPlugin,
  decodePluginConfigs,
  loadPlugins,
  silentLogger,
  type Envelope,
  type OpContext,
  type PluginRegistration,
} from "@berth/core";
import { localContentPlugin } from "@berth/content-local";
import { exchangePlugin } from "@berth/events";
import { lmdbMetadataPlugin } from "@berth/metadata-lmdb";
import { overlayPlugin } from "@berth/snapshot-overlay";
import { requireRoot } from "@berth/testing";
import { gcSchedulerPlugin } from "../src/index.js";
import { afterThisTest, tempDir, writeBlob } from "./world.js";

const PAST = new Date(Date.now() - 3_600_000).toISOString();

async function load() {
  const root = await tempDir();
  const plugins = [localContentPlugin, overlayPlugin, lmdbMetadataPlugin, exchangePlugin, gcSchedulerPlugin] as PluginRegistration[];
  // No background collection: the test's own collect() is the one that sweeps.
  const tables = { "io.containerd.gc.v1.scheduler": { startup_delay: "1h", mutation_threshold: 0 } };
  const { configs } = decodePluginConfigs(plugins, tables, "test.toml");
  const loaded = await loadPlugins({
    plugins,
    configs,
    disabled: [],
    required: plugins.map((p) => `${p.type.uri}.${p.id}`),
    daemon: { root, state: join(root, "state"), grpcAddress: "", ttrpcAddress: "" },
    log: silentLogger,
  });
  afterThisTest(() => loaded.close());
  return loaded;
}

/** Everything published from now until `stop()`, which returns it. */
function record(exchange: { subscribe(filters: readonly string[], signal: AbortSignal): AsyncIterable<Envelope> }) {
  const stopper = new AbortController();
  const seen: Envelope[] = [];
  const reading = (async () => {
    for await (const e of exchange.subscribe([], stopper.signal)) seen.push(e);
  })();
  return {
    async stop() {
      // Events published before stop() are queued already; let the reader drain them.
      await new Promise((resolve) => setImmediate(resolve));
      stopper.abort();
      await reading.catch(() => undefined);
      return seen;
    },
  };
}

describe("events of a collection", () => {
  it("publishes /images/delete and /snapshot/remove for what it removed, in its namespace, as containerd", async () => {
    requireRoot("the overlayfs snapshotter needs root");
    const loaded = await load();
    const metadata = loaded.get(MetadataPlugin, "lmdb")!;
    const snapshots = metadata.snapshotters.get("overlayfs")!;
    const alpha: OpContext = { namespace: "alpha" };
    const beta: OpContext = { namespace: "beta" };
    const blob = await writeBlob(metadata.content, alpha, "m", "a manifest");
    const target = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: blob.digest, size: blob.size };
    await metadata.images.create(alpha, { name: "expired:1", labels: { "containerd.io/gc.expire": PAST }, target });
    await metadata.images.create(alpha, { name: "kept:1", labels: {}, target });
    await snapshots.prepare(beta, "base-active", "");
    await snapshots.commit(beta, "base", "base-active");
    await snapshots.prepare(beta, "top-active", "base");
    await snapshots.commit(beta, "top", "top-active");
    await snapshots.prepare(beta, "rooted", "", { labels: { "containerd.io/gc.root": "1" } });
    await writeBlob(metadata.content, beta, "g", "unreferenced");
    await metadata.leases.create(beta, { id: "expired", labels: { "containerd.io/gc.expire": PAST } });

    const events = record(loaded.get(EventPlugin, "exchange")!);
    const stats = await loaded.get(GcPlugin, "scheduler")!.collect();
    const seen = await events.stop();

    expect(stats.records).toEqual({ images: 1, leases: 1, content: 1, ingests: 0, snapshots: 2 });
    const decoded = seen.map((e) => {
      const schema = e.topic === "/images/delete" ? eventPayloads.ImageDeleteSchema : eventPayloads.SnapshotRemoveSchema;
      const payload = unpackAny(schema, e.event) as { name?: string; key?: string; snapshotter?: string } | undefined;
      return { namespace: e.namespace, topic: e.topic, name: payload?.name, key: payload?.key, snapshotter: payload?.snapshotter };
    });
    expect(decoded).toEqual([
      { namespace: "alpha", topic: "/images/delete", name: "expired:1", key: undefined, snapshotter: undefined },
      // Children before parents, as the sweep removes them.
      { namespace: "beta", topic: "/snapshot/remove", name: undefined, key: "top", snapshotter: "overlayfs" },
      { namespace: "beta", topic: "/snapshot/remove", name: undefined, key: "base", snapshotter: "overlayfs" },
    ]);
  });

  it("a collection that removes nothing announces nothing", async () => {
    requireRoot("the overlayfs snapshotter needs root");
    const loaded = await load();
    const events = record(loaded.get(EventPlugin, "exchange")!);
    await loaded.get(GcPlugin, "scheduler")!.collect();
    expect(await events.stop()).toEqual([]);
  });
});
