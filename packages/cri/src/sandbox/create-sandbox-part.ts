import { notImplemented } from "@berth/core";
import type { CriBase } from "../cri-base.js";
import type { SandboxPart } from "../runtime/parts.js";
import type { SandboxController } from "../runtime/sandbox-controller.js";
import { podSandboxInfo, podSandboxStatusToCri, podSandboxToCri, unixNanos } from "./convert-sandbox.js";
import { createKeyedLock } from "./keyed-lock.js";
import { cniCacheDir, createPodNetworking } from "./pod-networking.js";
import { recoverSandboxes } from "./recover-sandboxes.js";
import { removePodSandbox } from "./remove-pod-sandbox.js";
import { runPodSandbox } from "./run-pod-sandbox.js";
import type { SandboxContext } from "./sandbox-context.js";
import { watchSandboxExits } from "./sandbox-exits.js";
import { filterPods } from "./sandbox-filter.js";
import { podSandboxStats } from "./sandbox-stats.js";
import { createSandboxStore } from "./sandbox-store.js";
import { stopPodSandbox } from "./stop-pod-sandbox.js";

/**
 * Pod sandboxes: a pause container per pod in its own network namespace (CNI), with the pod's
 * hostname, hosts, resolv.conf and /dev/shm; their status, listing and stats; NOTREADY when
 * the pause process exits; rebuilt from metadata after a restart. PortForward belongs to the
 * streaming side and answers Unimplemented here.
 */
export function createSandboxPart(base: CriBase): SandboxPart {
  const store = createSandboxStore(base.state.sandboxIds);
  const network = createPodNetworking(base.config.cni, cniCacheDir(base.rootDir));
  const sc: SandboxContext = { base, store, network, lock: createKeyedLock() };

  // Subscribed before any pod starts (recovery included), so no pause exit is missed.
  const stopWatching = new AbortController();
  const watchSignal = AbortSignal.any([base.signal, stopWatching.signal]);
  const watching = watchSandboxExits(base, store, watchSignal);

  const controller: SandboxController = {
    runPodSandbox: (request, call) => runPodSandbox(sc, request, call),
    async stopPodSandbox(request, call) {
      await stopPodSandbox(sc, request.podSandboxId, call.signal);
      return {};
    },
    async removePodSandbox(request, call) {
      await removePodSandbox(sc, request.podSandboxId, call.signal);
      return {};
    },
    async podSandboxStatus(request) {
      const pod = store.get(request.podSandboxId);
      return {
        status: podSandboxStatusToCri(pod),
        info: request.verbose ? podSandboxInfo(pod) : {},
        containersStatuses: [],
        timestamp: unixNanos(new Date()),
      };
    },
    async listPodSandbox(request) {
      return { items: filterPods(store.all(), request.filter).map(podSandboxToCri) };
    },
    async podSandboxStats(request, call) {
      return { stats: await podSandboxStats(base.runtime, store.get(request.podSandboxId), call.signal) };
    },
    async listPodSandboxStats(request, call) {
      const pods = filterPods(store.all(), request.filter && { ...request.filter, state: undefined }).filter((p) => p.status.state === "ready");
      const stats = await Promise.all(pods.map((p) => podSandboxStats(base.runtime, p, call.signal).catch(() => undefined)));
      return { stats: stats.filter((s) => s !== undefined) };
    },
    portForward() {
      throw notImplemented("cri: portForward is not implemented yet (streaming)");
    },
    // Berth defines no pod metrics of its own yet; empty answers keep the kubelet's optional probe quiet.
    listMetricDescriptors: async () => ({ descriptors: [] }),
    listPodSandboxMetrics: async () => ({ podMetrics: [] }),
  };

  return {
    controller,
    lookup: store,
    network: network.readiness,
    recover: () => recoverSandboxes(sc),
    async close() {
      stopWatching.abort();
      await watching;
    },
  };
}
