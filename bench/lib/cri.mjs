// The CRI mode: what either daemon needs to serve Kubernetes' CRI on this machine, offline.
// Only a workload that asks for it (ctx.launch(kind, dir, { cri: true })) gets a daemon with
// the CRI section, so every other workload's daemons stay exactly as they were.
import { existsSync, readFileSync, readdirSync, realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import { asNotAvailable } from "./errors.mjs";
import { installPackages } from "./env.mjs";
import { pool, run, runOk, sleep, which } from "./proc.mjs";

/** containerd 1.6's default sandbox image; the fixtures build a small C pause under this name. */
export const SANDBOX_IMAGE = "registry.k8s.io/pause:3.6";
/** critest's default test container image (a busybox stand-in from the fixtures). */
export const BUSYBOX_IMAGE = "registry.k8s.io/e2e-test-images/busybox:1.29-2";
/** Pods are given this cgroup parent, so the run's clean-up finds (and removes) what is left of them. */
export const CRI_CGROUP_PARENT = "berth-bench-cri";

const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;

/** What the CRI mode needs beyond the harness's own packages: command or file → Debian package. */
const CRI_NEEDS = {
  "/usr/lib/cni/bridge": "containernetworking-plugins",
  "/usr/lib/cni/host-local": "containernetworking-plugins",
  "/usr/lib/cni/portmap": "containernetworking-plugins",
  "/usr/lib/cni/loopback": "containernetworking-plugins",
  iptables: "iptables", // bridge and portmap call it
  ip: "iproute2",
  gcc: "gcc", // the fixtures compile the pause and other stand-ins
  "/usr/include/stdio.h": "libc6-dev",
  "dpkg-deb": "dpkg",
};

async function ensureCriPackages(log) {
  const missing = new Set();
  for (const [what, pkg] of Object.entries(CRI_NEEDS)) {
    const present = what.startsWith("/") ? existsSync(what) : await which(what);
    if (!present) missing.add(pkg);
  }
  await installPackages([...missing], log);
}

/**
 * The CRI images built by ../shared/fixtures/cri (kept in .fixtures/cri-images) and pushed into
 * the bench's registry under their original paths, once per bench run; a push is skipped when
 * the registry already has every manifest (its storage outlives runs).
 */
export function criImages(ctx) {
  ctx.criImages ??= (async () => {
    const { buildCriImages } = await import("@berth/testing");
    await ensureCriPackages(ctx.log);
    const t0 = performance.now();
    const images = await buildCriImages();
    const missing = [];
    for (const [ref, img] of Object.entries(images.images)) {
      if (!(await registryHas(ctx.fx.registry, ref, img.manifest))) missing.push(ref);
    }
    if (missing.length > 0) {
      const script = join(ctx.fx.shared, "cri", "push-cri-images.sh");
      await runOk("bash", [script, ctx.fx.registry, images.dir], { stdout: "ignore" });
    }
    ctx.log(`CRI images ready in ${images.dir}, ${missing.length ? "pushed" : "already"} in ${ctx.fx.registry} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    return images;
  })();
  return ctx.criImages;
}

/** Whether `registry` serves `ref`'s path and tag with manifest digest `digest`. */
async function registryHas(registry, ref, digest) {
  const [, path, tag] = /^[^/]+\/(.+):([^:/]+)$/.exec(ref) ?? [];
  if (!path) return false;
  try {
    const res = await fetch(`http://${registry}/v2/${path}/manifests/${tag}`, {
      method: "HEAD",
      headers: { accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json" },
    });
    return res.ok && res.headers.get("docker-content-digest") === digest;
  } catch {
    return false;
  }
}

/**
 * The files a CRI daemon under `dir` reads: a CNI conflist with a bridge and subnet of its own
 * (host-local's addresses in the daemon's directory) and a certs.d sending registry.k8s.io and
 * gcr.io to the bench's registry. Returns the paths and the network (its bridge is deleted by
 * `network.remove()`).
 */
export async function writeCriFiles(ctx, dir, kind) {
  const { writeCriCniConf, writeCriHostsDir } = await import("@berth/testing");
  await criImages(ctx);
  const confDir = join(dir, "net.d");
  const certsDir = join(dir, "certs.d");
  // 15 characters at most; unique per bench process and daemon kind.
  const bridge = `bb${kind === "containerd" ? "c" : "b"}${process.pid.toString(36)}`.slice(0, 15);
  const network = await writeCriCniConf(confDir, { bridge, ipamDataDir: join(dir, "cni-ipam") });
  await writeCriHostsDir(certsDir, ctx.fx.registry);
  return { confDir, certsDir, network };
}

/** `[plugins."io.containerd.grpc.v1.cri"]` in containerd's version-2 config, the same for both daemons. */
export function criConfigSection({ confDir, certsDir, runcRoot }) {
  const q = JSON.stringify;
  const cri = '[plugins."io.containerd.grpc.v1.cri"';
  return [
    `${cri}]`,
    `  sandbox_image = ${q(SANDBOX_IMAGE)}`,
    '  stream_server_address = "127.0.0.1"',
    "  # root lacks CAP_SYS_RESOURCE on these VMs: a pause asking for -998 would fail every pod.",
    "  restrict_oom_score_adj = true",
    `  ${cri}.containerd]`,
    '    snapshotter = "overlayfs"',
    '    default_runtime_name = "runc"',
    `    ${cri}.containerd.runtimes.runc]`,
    '      runtime_type = "io.containerd.runc.v2"',
    "      # A private runc root, so the harness's safety net (runc delete -f) finds every pod.",
    `      ${cri}.containerd.runtimes.runc.options]`,
    `        Root = ${q(runcRoot)}`,
    `  ${cri}.cni]`,
    '    bin_dir = "/usr/lib/cni"',
    `    conf_dir = ${q(confDir)}`,
    "    max_conf_num = 1",
    `  ${cri}.registry]`,
    `    config_path = ${q(certsDir)}`,
    "",
  ].join("\n");
}

/** The CRI's two services over the daemon's socket, through @berth/client (grpc-js), no namespace header. */
export async function criServices(daemon) {
  const { criApi } = await import("@berth/api");
  const client = await daemon.client("");
  return { runtime: client.service(criApi.RuntimeService), images: client.service(criApi.ImageService), criApi };
}

/** Waits until Status reports RuntimeReady and NetworkReady (containerd loads its CNI config asynchronously). */
export async function waitCriReady(daemon, timeoutMs = 30_000) {
  const { runtime } = await criServices(daemon);
  const deadline = Date.now() + timeoutMs;
  let conditions = [];
  while (Date.now() < deadline) {
    conditions = (await runtime.status({ verbose: false })).status?.conditions ?? [];
    if (["RuntimeReady", "NetworkReady"].every((t) => conditions.some((c) => c.type === t && c.status))) return;
    await sleep(200);
  }
  throw new Error(`${daemon.kind}'s CRI not ready after ${timeoutMs / 1000} s: ${JSON.stringify(conditions.map((c) => ({ type: c.type, status: c.status, reason: c.reason })))}`);
}

/** What a pod holds on the host: its netns pin and its IP. Read from PodSandboxStatus (verbose). */
export async function podHoldings(daemon, podSandboxId) {
  const { runtime } = await criServices(daemon);
  const res = await runtime.podSandboxStatus({ podSandboxId, verbose: true });
  const info = JSON.parse(res.info?.info ?? "{}");
  // Berth names the path; containerd has it in the pause container's runtime spec.
  const netns = info.netnsPath ?? info.runtimeSpec?.linux?.namespaces?.find((n) => n.type === "network")?.path ?? "";
  if (netns) daemon.cri?.netns.add(netns);
  return { id: podSandboxId, ip: res.status?.network?.ip ?? "", netns };
}

/** Stops and removes every container and pod the daemon's CRI lists (kubelet's order); returns how many pods. */
export async function removeAllPods(daemon, concurrency = 4) {
  const { runtime } = await criServices(daemon);
  const containers = (await runtime.listContainers({})).containers;
  await pool(containers, concurrency, (c) =>
    retried(async () => {
      await runtime.stopContainer({ containerId: c.id, timeout: 0n });
      await runtime.removeContainer({ containerId: c.id });
    }),
  );
  const pods = (await runtime.listPodSandbox({})).items;
  await pool(pods, concurrency, (p) =>
    retried(async () => {
      await runtime.stopPodSandbox({ podSandboxId: p.id });
      await runtime.removePodSandbox({ podSandboxId: p.id });
    }),
  );
  return pods.length;
}

/**
 * `fn` again (up to 5 times, 200 ms apart) when it fails as a kubelet would retry: containerd
 * 1.6 can answer RemoveContainer right after a StopContainer that returned with "container is
 * still running, to stop first" while its exit event is still being handled.
 */
async function retried(fn) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 5 || asNotAvailable(err)) throw err;
      await sleep(200);
    }
  }
}

/** The netns directory the runtimes pin pods in (/var/run is a link to /run here). */
const NETNS_DIR = "/run/netns";

/** Whether a network namespace is still pinned (bind-mounted) at `path`. */
export function netnsPinned(path) {
  if (!path || !existsSync(path)) return false;
  // mountinfo names the resolved path (/var/run/netns/x shows as /run/netns/x).
  const real = realpathSync(path);
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((line) => line.split(" ")[4] === real);
}

/** Unpins and deletes a netns file a pod of ours left (the safety net after an interrupted run). */
export async function removeNetnsPin(path) {
  for (let i = 0; i < 4 && netnsPinned(path); i++) await run("umount", ["-l", realpathSync(path)]);
  if (!netnsPinned(path)) rmSync(path, { force: true });
}

/** Whether the netns pinned at `path` has an IPv4 address in `subnet` (x.y.z.0/24): a pod of that network. */
async function netnsOnSubnet(path, subnet) {
  const prefix = subnet.replace(/0\/24$/, "");
  const res = await run("nsenter", [`--net=${path}`, "ip", "-4", "-o", "addr", "show"]);
  return res.code === 0 && res.stdout.split("\n").some((l) => l.split(/\s+/)[3]?.startsWith(prefix));
}

/** Addresses host-local still holds in `dataDir` (a file per address, under the network's name). */
export function allocatedIps(dataDir) {
  if (!existsSync(dataDir)) return [];
  const out = [];
  for (const net of readdirSync(dataDir, { withFileTypes: true })) {
    if (!net.isDirectory()) continue;
    for (const name of readdirSync(join(dataDir, net.name))) if (IPV4.test(name)) out.push(name);
  }
  return out;
}

/**
 * Clean-up, daemon still running: every pod removed through the CRI, a few rounds (a workload
 * interrupted mid-removal holds some pods in "removing"), bounded in time so a daemon that
 * hangs cannot hold the clean-up; what is left the steps after it handle.
 */
export async function criBeforeStop(daemon, log) {
  const deadline = Date.now() + 60_000;
  try {
    const { runtime } = await criServices(daemon);
    const opts = { timeoutMs: 30_000 };
    for (let round = 0; Date.now() < deadline; round++) {
      const containers = (await runtime.listContainers({}, opts)).containers;
      const pods = (await runtime.listPodSandbox({}, opts)).items;
      if (containers.length + pods.length === 0) return;
      if (round === 0) log(`clean-up: removing ${pods.length} pod(s) left on ${daemon.kind}'s CRI`);
      const each = (fn) => (x) => fn(x).catch(() => undefined);
      await pool(containers, 4, each(async (c) => {
        await runtime.stopContainer({ containerId: c.id, timeout: 0n }, opts);
        await runtime.removeContainer({ containerId: c.id }, opts);
      }));
      await pool(pods, 4, each(async (p) => {
        await runtime.stopPodSandbox({ podSandboxId: p.id }, opts);
        await runtime.removePodSandbox({ podSandboxId: p.id }, opts);
      }));
      await sleep(500);
    }
    log(`clean-up: ${daemon.kind}'s CRI still lists pods after 60 s`);
  } catch (err) {
    if (!asNotAvailable(err)) log(`clean-up: removing ${daemon.kind}'s pods: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Clean-up, daemon stopped: netns pins its pods left (those the harness saw, and any in
 * /run/netns with an address on this daemon's own subnet, which no one else uses), then the
 * network's bridge, conflist and address store.
 */
export async function criAfterStop(daemon, log) {
  const { netns, network } = daemon.cri;
  const candidates = new Set(netns);
  for (const name of existsSync(NETNS_DIR) ? readdirSync(NETNS_DIR) : []) {
    const path = join(NETNS_DIR, name);
    if (netnsPinned(path) && (await netnsOnSubnet(path, network.subnet))) candidates.add(path);
  }
  for (const path of candidates) {
    if (!netnsPinned(path) && !existsSync(path)) continue;
    log(`clean-up: removing netns ${path} left by ${daemon.kind}`);
    await removeNetnsPin(path);
  }
  await network.remove();
}
