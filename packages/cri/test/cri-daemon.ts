// berthd in this process with the plugins the CRI's image side needs (content, lmdb metadata,
// overlayfs, the walking differ, events, containerd's services for ctr, the CRI), and grpc-js clients for both CRI services
// that send no namespace header, as the kubelet and crictl do not.
import * as grpc from "@grpc/grpc-js";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { criApi } from "@berth/api";
import { createServiceClient, type ServiceClient } from "@berth/client";
import { localContentPlugin } from "@berth/content-local";
import { startDaemon, type Daemon } from "@berth/daemon";
import { walkingDifferPlugin } from "@berth/differ";
import { eventsGrpcPlugin, exchangePlugin } from "@berth/events";
import { lmdbMetadataPlugin } from "@berth/metadata-lmdb";
import { servicePlugins } from "@berth/services";
import { overlayPlugin } from "@berth/snapshot-overlay";
import { requireRoot, startTestDaemon, type TestDaemon } from "@berth/testing";
import { criGrpcPlugin } from "../src/index.js";

export const CRI_URI = "io.containerd.grpc.v1.cri";

export interface CriDaemon {
  readonly berthd: TestDaemon<Daemon>;
  readonly runtime: ServiceClient<typeof criApi.RuntimeService>;
  readonly images: ServiceClient<typeof criApi.ImageService>;
  /** The CNI config directory the CRI watches (empty at start). */
  readonly cniConfDir: string;
  dispose(): Promise<void>;
}

/** `cri` is the `[plugins."io.containerd.grpc.v1.cri"]` table, in TOML's snake_case keys. */
export async function startCriDaemon(cri: (dir: string) => Record<string, unknown> = () => ({})): Promise<CriDaemon> {
  requireRoot("berthd locks its root and overlayfs mounts need root");
  const plugins = [localContentPlugin, lmdbMetadataPlugin, overlayPlugin, walkingDifferPlugin, exchangePlugin, eventsGrpcPlugin, ...servicePlugins, criGrpcPlugin];
  let cniConfDir = "";
  const berthd = await startTestDaemon((o) => startDaemon({ ...o, plugins }), {
    async config(config, dir) {
      cniConfDir = join(dir, "net.d");
      await mkdir(cniConfDir);
      const table = cri(dir);
      config.plugins[CRI_URI] = { ...table, cni: { conf_dir: cniConfDir, bin_dir: "/usr/lib/cni", ...(table["cni"] as object | undefined) } };
    },
  });
  const channel = new grpc.Client(`unix://${berthd.address}`, grpc.credentials.createInsecure());
  return {
    berthd,
    runtime: createServiceClient(channel, criApi.RuntimeService, { timeoutMs: 120_000 }),
    images: createServiceClient(channel, criApi.ImageService, { timeoutMs: 120_000 }),
    cniConfDir,
    async dispose() {
      channel.close();
      await berthd.dispose();
    },
  };
}
