import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { localContentPlugin } from "@berth/content-local";
import type { PluginRegistration } from "@berth/core";
import { startDaemon } from "@berth/daemon";
import { walkingDifferPlugin } from "@berth/differ";
import { eventsGrpcPlugin, exchangePlugin } from "@berth/events";
import { lmdbMetadataPlugin } from "@berth/metadata-lmdb";
import { runtimeV2TaskPlugin } from "@berth/runtime-v2";
import { servicePlugins } from "@berth/services";
import { overlayPlugin } from "@berth/snapshot-overlay";
import { ctrIn, ensureFixtureImages, exec, importFixture, mountsBelow, requireRoot, requireTool, startTestDaemon } from "@berth/testing";
import { TINY, type RunTarget } from "./run-target.js";

/** berthd's script: shims call it back as their -publish-binary. */
const BERTHD = join(dirname(createRequire(import.meta.url).resolve("@berth/daemon")), "bin", "berthd.js");

/** Every plugin a berthd that runs containers loads. */
function runtimePlugins(): PluginRegistration[] {
  return [localContentPlugin, lmdbMetadataPlugin, overlayPlugin, walkingDifferPlugin, exchangePlugin, eventsGrpcPlugin, ...servicePlugins, runtimeV2TaskPlugin] as PluginRegistration[];
}

/** berthd in this process with the real content, metadata, overlayfs, differ, services and runtime plugins. */
export async function startBerthdTarget(): Promise<RunTarget> {
  requireRoot("they run containers");
  await requireTool("ctr", "containerd");
  await requireTool("containerd-shim-runc-v2", "containerd");
  await requireTool("runc", "runc");
  await ensureFixtureImages();
  const daemon = await startTestDaemon((o) => startDaemon({ ...o, plugins: runtimePlugins() }), {
    config: (config) => {
      config.plugins["io.containerd.runtime.v2.task"] = { publish_binary: BERTHD };
    },
  });
  const dispose = async () => {
    await daemon.dispose();
    for (const m of await mountsBelow(daemon.dir)) await exec("umount", ["-l", m]).catch(() => undefined);
  };
  try {
    const namespace = `berth-cli-${randomBytes(4).toString("hex")}`;
    const ctr = ctrIn(daemon.address, namespace);
    await importFixture(ctr, daemon.dir, "tiny");
    return {
      name: "berthd",
      address: daemon.address,
      namespace,
      image: TINY,
      ctr,
      importPacked: (ns, name) => importFixture(ctrIn(daemon.address, ns), daemon.dir, "tiny", { unpack: false, baseName: name.replace(/:latest$/, "") }),
      dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}
