// berthd in this process with everything pods need — content, lmdb, overlayfs, the walking
// differ, events, containerd's services (for ctr), the v2 task runtime (Debian's
// containerd-shim-runc-v2 + runc) and the CRI — on a directory the test keeps, so the daemon can
// be stopped and started again on the same root and state (recovery). Images come from the CRI
// registry (@berth/testing), pods get a CNI network with a bridge and subnet of their own.
import * as grpc from "@grpc/grpc-js";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { criApi } from "@berth/api";
import { createServiceClient, type ServiceClient } from "@berth/client";
import { localContentPlugin } from "@berth/content-local";
import { defaultServerConfig, type PluginRegistration } from "@berth/core";
import { startDaemon, type Daemon } from "@berth/daemon";
import { walkingDifferPlugin } from "@berth/differ";
import { eventsGrpcPlugin, exchangePlugin } from "@berth/events";
import { lmdbMetadataPlugin } from "@berth/metadata-lmdb";
import { runtimeV2TaskPlugin } from "@berth/runtime-v2";
import { servicePlugins } from "@berth/services";
import { overlayPlugin } from "@berth/snapshot-overlay";
import { exec, mountsBelow, requireRoot, requireTool, startCriRegistry, testLogger, type CriCniNetwork, type CriRegistry } from "@berth/testing";
import { criGrpcPlugin } from "../src/index.js";

const BERTHD = join(dirname(createRequire(import.meta.url).resolve("@berth/daemon")), "bin", "berthd.js");

export interface SandboxDaemon {
  readonly dir: string;
  readonly address: string;
  readonly cni: CriCniNetwork;
  readonly runtime: ServiceClient<typeof criApi.RuntimeService>;
  /** Debian's ctr against this daemon, in k8s.io. */
  ctr(...args: string[]): Promise<string>;
  /** Closes berthd (shims and pods keep running) and starts it again on the same dirs. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

export interface SandboxDaemonOptions {
  /** More of the CRI table (snake_case), e.g. extra runtime handlers. */
  readonly cri?: Record<string, unknown>;
}

/** Root, the CRI registry, and the tools pods and these tests need; fails (never skips) without them. */
export async function sandboxPrerequisites(): Promise<CriRegistry> {
  requireRoot("pods need mounts, network namespaces and runc");
  for (const [tool, pkg] of [["runc", "runc"], ["containerd-shim-runc-v2", "containerd"], ["ctr", "containerd"], ["nsenter", "util-linux"], ["unshare", "util-linux"], ["busybox", "busybox"], ["iptables", "iptables"], ["ip", "iproute2"], ["/usr/lib/cni/bridge", "containernetworking-plugins"]] as const) {
    await requireTool(tool, pkg);
  }
  return startCriRegistry();
}

export async function startSandboxDaemon(registry: CriRegistry, opts: SandboxDaemonOptions = {}): Promise<SandboxDaemon> {
  const dir = await mkdtemp(join(tmpdir(), "berth-cri-sandbox-"));
  const hostsDir = await registry.writeHostsDir(join(dir, "certs.d"));
  const cni = await registry.writeCniConfDir(join(dir, "net.d"));
  await mkdir(join(dir, "root"), { recursive: true });
  const plugins = [localContentPlugin, lmdbMetadataPlugin, overlayPlugin, walkingDifferPlugin, exchangePlugin, eventsGrpcPlugin, ...servicePlugins, runtimeV2TaskPlugin, criGrpcPlugin] as PluginRegistration[];
  const address = join(dir, "berthd.sock");

  const start = () => {
    const config = defaultServerConfig();
    config.root = join(dir, "root");
    config.state = join(dir, "state");
    config.grpc.address = address;
    config.plugins["io.containerd.runtime.v2.task"] = { publish_binary: BERTHD };
    config.plugins["io.containerd.grpc.v1.cri"] = {
      sandbox_image: "registry.k8s.io/pause:3.6",
      cni: { conf_dir: cni.confDir, bin_dir: "/usr/lib/cni", max_conf_num: 1 },
      registry: { config_path: hostsDir },
      ...opts.cri,
    };
    return startDaemon({ config, log: testLogger(), plugins });
  };

  let daemon: Daemon = await start();
  let channel = new grpc.Client(`unix://${address}`, grpc.credentials.createInsecure());
  const client = () => createServiceClient(channel, criApi.RuntimeService, { timeoutMs: 120_000 });
  const handle = {
    dir,
    address,
    cni,
    runtime: client(),
    async ctr(...args: string[]) {
      return (await exec("ctr", ["-a", address, "-n", "k8s.io", ...args])).stdout;
    },
    async restart() {
      channel.close();
      await daemon.close();
      daemon = await start();
      channel = new grpc.Client(`unix://${address}`, grpc.credentials.createInsecure());
      handle.runtime = client();
    },
    async dispose() {
      // Pods left by a failed test: remove them while the daemon still runs.
      const left = await handle.runtime.listPodSandbox({}).catch(() => ({ items: [] }));
      for (const pod of left.items) await handle.runtime.removePodSandbox({ podSandboxId: pod.id }).catch(() => undefined);
      channel.close();
      await daemon.close();
      for (const m of (await mountsBelow(dir)).reverse()) await exec("umount", ["-l", m]).catch(() => undefined);
      await cni.remove();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return handle;
}
