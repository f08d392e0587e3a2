// Pods through Kubernetes' CRI, as a kubelet makes them: RunPodSandbox (pause image, CNI
// bridge network), a pod with one busybox container, and 20 such pods at once. Both daemons
// run in the harness's CRI mode (lib/cri.mjs), started for this workload only.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  BUSYBOX_IMAGE,
  CRI_CGROUP_PARENT,
  SANDBOX_IMAGE,
  allocatedIps,
  criImages,
  criServices,
  netnsPinned,
  podHoldings,
  removeAllPods,
  waitCriReady,
} from "../lib/cri.mjs";
import { run } from "../lib/proc.mjs";

const CONCURRENT_PODS = 20;

/** A pod as a kubelet describes it; its cgroups go under one parent the run's clean-up removes. */
function podConfig(state, name) {
  const logDirectory = join(state.logs, name);
  mkdirSync(logDirectory, { recursive: true }); // the kubelet makes it before RunPodSandbox
  return {
    metadata: { name, uid: `${name}-uid`, namespace: "berth-bench", attempt: 0 },
    hostname: name,
    logDirectory,
    linux: { cgroupParent: `/${CRI_CGROUP_PARENT}` },
  };
}

const containerConfig = () => ({
  metadata: { name: "sleep", attempt: 0 },
  image: { image: BUSYBOX_IMAGE },
  command: ["sleep", "3600"],
  logPath: "sleep.log",
  linux: {},
});

/** RunPodSandbox, then CreateContainer + StartContainer in it; the times since the first call. */
async function runPod(runtime, config) {
  const t0 = performance.now();
  const { podSandboxId } = await runtime.runPodSandbox({ config });
  const sandboxMs = performance.now() - t0;
  const { containerId } = await runtime.createContainer({ podSandboxId, config: containerConfig(), sandboxConfig: config });
  await runtime.startContainer({ containerId });
  return { podSandboxId, containerId, sandboxMs, podMs: performance.now() - t0 };
}

/**
 * Untimed, after each step: every pod READY with a network (IP and netns), every container
 * RUNNING; then all removed, and neither an IP in host-local's store nor a netns pin left.
 */
async function checkAndRemove(daemon, pods) {
  const { runtime, criApi } = await criServices(daemon);
  const ready = new Set((await runtime.listPodSandbox({})).items.filter((p) => p.state === criApi.PodSandboxState.SANDBOX_READY).map((p) => p.id));
  const running = new Set((await runtime.listContainers({})).containers.filter((c) => c.state === criApi.ContainerState.CONTAINER_RUNNING).map((c) => c.id));
  const holdings = [];
  for (const pod of pods) holdings.push(await podHoldings(daemon, pod.podSandboxId));
  const notReady = pods.filter((p) => !ready.has(p.podSandboxId)).length;
  const notRunning = pods.filter((p) => !running.has(p.containerId)).length;
  const noNet = holdings.filter((h) => !h.ip || !h.netns).length;

  await removeAllPods(daemon);
  const left = (await runtime.listPodSandbox({})).items.length + (await runtime.listContainers({})).containers.length;
  const pinned = holdings.filter((h) => netnsPinned(h.netns) || existsSync(h.netns)).map((h) => h.netns);
  const ips = allocatedIps(daemon.cri.network.ipamDataDir);
  const problems = [
    notReady && `${notReady} of ${pods.length} pod(s) not READY`,
    notRunning && `${notRunning} of ${pods.length} container(s) not RUNNING`,
    noNet && `${noNet} pod(s) without an IP or netns in PodSandboxStatus`,
    left && `${left} pod(s)/container(s) still listed after stop and remove`,
    pinned.length && `netns left after removal: ${pinned.join(", ")}`,
    ips.length && `IPs still allocated after removal: ${ips.join(", ")}`,
  ].filter(Boolean);
  if (problems.length) throw new Error(problems.join("; "));
}

export default {
  id: "cri-pods",
  title: "CRI pods",
  description:
    "Kubernetes' CRI (runtime.v1) on each daemon's socket, through one client for both (grpc-js with the `criApi` " +
    "descriptors of @berth/api, as a kubelet would call it; no namespace header). Both daemons are started for this " +
    "workload in the harness's CRI mode, with the same CRI section: sandbox image `registry.k8s.io/pause:3.6` (the " +
    "fixtures' small C pause), `restrict_oom_score_adj = true`, runtime `io.containerd.runc.v2` (Debian's Go shim, " +
    "runc root private to the run), CNI from `/usr/lib/cni` with a conflist of its own each (bridge + host-local + " +
    "portmap + loopback, own bridge and /24), and a `certs.d` sending registry.k8s.io and gcr.io to the bench's " +
    "registry, where the CRI fixture images are pushed. Untimed first: both images pulled through PullImage, one warm-up " +
    "pod. Rows: RunPodSandbox alone (pause started in a new netns with a bridge IP); the same pod's " +
    "RunPodSandbox + CreateContainer + StartContainer of one busybox `sleep 3600` (pod create+start latency); and " +
    `${CONCURRENT_PODS} such pods started at once (wall time until the last StartContainer returns). After each run, ` +
    "untimed: every pod READY with an IP and netns, every container RUNNING, then all stopped and removed (kubelet's " +
    "order) and checked: no pod listed, no netns pin, no address in host-local's store; after the last run the daemon " +
    "is stopped and its bridge deleted. Pods get cgroup parent `/berth-bench-cri`.",
  metrics: [
    { key: "sandbox", unit: "ms", better: "lower", title: "CRI RunPodSandbox latency (pause, CNI bridge)" },
    { key: "pod", unit: "ms", better: "lower", title: "CRI pod + 1 container created and started" },
    { key: "many", unit: "s", better: "lower", title: `CRI ${CONCURRENT_PODS} concurrent pods (1 container each)` },
  ],
  runs: { full: 5, smoke: 1 },
  async setup(ctx) {
    await criImages(ctx);
    return { daemons: new Map(), logs: join(ctx.tmp, "cri-logs"), pods: 0 };
  },
  async prepare(ctx, daemon, state) {
    const cri = await ctx.launch(daemon.kind, join(ctx.tmp, `cri-${daemon.kind}`), { cri: true });
    state.daemons.set(daemon.kind, cri);
    await waitCriReady(cri);
    const { runtime, images } = await criServices(cri);
    for (const image of [SANDBOX_IMAGE, BUSYBOX_IMAGE]) await images.pullImage({ image: { image } });
    const warm = await runPod(runtime, podConfig(state, `warm-${daemon.kind}`));
    await checkAndRemove(cri, [warm]);
  },
  async measure(ctx, daemon, state) {
    const cri = state.daemons.get(daemon.kind);
    const { runtime } = await criServices(cri);
    const name = () => `${daemon.kind === "containerd" ? "c" : "b"}${state.pods++}`;

    const one = await runPod(runtime, podConfig(state, name()));
    await checkAndRemove(cri, [one]);

    const configs = Array.from({ length: CONCURRENT_PODS }, () => podConfig(state, name()));
    const t0 = performance.now();
    const settled = await Promise.allSettled(configs.map((config) => runPod(runtime, config)));
    const manyMs = performance.now() - t0;
    const failed = settled.find((s) => s.status === "rejected");
    if (failed) {
      await removeAllPods(cri).catch(() => undefined);
      throw failed.reason;
    }
    await checkAndRemove(cri, settled.map((s) => s.value));
    return { sandbox: one.sandboxMs, pod: one.podMs, many: manyMs / 1000 };
  },
  async finish(ctx, daemon, state) {
    const cri = state.daemons.get(daemon.kind);
    if (!cri) return;
    const bridge = cri.cri.network.bridge;
    try {
      await removeAllPods(cri);
    } finally {
      await cri.release(); // stops the daemon, then deletes its bridge (lib/cri.mjs criAfterStop)
    }
    if ((await run("ip", ["link", "show", bridge])).code === 0) throw new Error(`bridge ${bridge} still exists after clean-up`);
  },
};
