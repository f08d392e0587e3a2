// The machine: root check, Debian packages, Berth's build, fixture images and their registry.
import { existsSync, readFileSync, mkdirSync } from "node:fs";
import { cpus, totalmem, release } from "node:os";
import { join, resolve } from "node:path";
import { onCleanup } from "./cleanup.mjs";
import { run, runOk, which } from "./proc.mjs";

/** Commands the harness uses, and the Debian package that provides each. */
const COMMANDS = {
  containerd: "containerd",
  ctr: "containerd",
  "containerd-shim-runc-v2": "containerd",
  runc: "runc",
  "docker-registry": "docker-registry",
  skopeo: "skopeo",
  jq: "jq",
  tar: "tar",
  gzip: "gzip",
  openssl: "openssl",
  mount: "mount",
  dd: "coreutils",
};
const BUSYBOX = "/bin/busybox";

export function requireRoot() {
  if (process.getuid?.() !== 0) {
    throw new Error("bench must run as root: it starts containerd and berthd, mounts snapshots and runs containers (try: sudo pnpm bench)");
  }
}

/** Installs the Debian packages behind any missing command (apt-get update once), then resolves paths. */
export async function ensurePackages(log) {
  const missing = new Set();
  for (const [cmd, pkg] of Object.entries(COMMANDS)) if (!(await which(cmd))) missing.add(pkg);
  if (!(await isStaticBusybox())) missing.add("busybox-static");
  await installPackages([...missing], log);
  const bin = {};
  for (const cmd of Object.keys(COMMANDS)) {
    bin[cmd] = await which(cmd);
    if (!bin[cmd]) throw new Error(`${cmd} still missing after installing its package`);
  }
  if (!(await isStaticBusybox())) throw new Error(`${BUSYBOX} is not a static busybox (apt-get install busybox-static)`);
  return bin;
}

/** apt-get install of `pkgs` (after one apt-get update); nothing when the list is empty. */
export async function installPackages(pkgs, log) {
  if (pkgs.length === 0) return;
  if (!(await which("apt-get"))) throw new Error(`missing ${pkgs.join(", ")} and no apt-get to install them`);
  log(`installing Debian packages: ${pkgs.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  await runOk("apt-get", ["update", "-qq"], { env, stdout: "ignore" });
  await runOk("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...pkgs], { env, stdout: "ignore" });
}

async function isStaticBusybox() {
  if (!existsSync(BUSYBOX)) return false;
  // ldd fails on a static executable ("not a dynamic executable").
  const res = await run("ldd", [BUSYBOX]);
  return res.code !== 0 || /not a dynamic executable|statically linked/.test(res.stdout + res.stderr);
}

/** berthd, berth and the client library from this checkout; installs/builds them when absent. */
export async function ensureBerthBuilt(repo, log) {
  const need = [
    "node_modules/.bin/berthd",
    "node_modules/.bin/berth",
    "packages/daemon/dist/bin/berthd.js",
    "packages/cli/dist/bin/berth.js",
    "packages/client/dist/index.js",
    "packages/api/dist/index.js",
    "packages/testing/dist/index.js",
    "bench/node_modules/@berth/client",
    "bench/node_modules/@berth/testing",
  ];
  const absent = () => need.filter((p) => !existsSync(join(repo, p)));
  if (absent().some((p) => p.includes("node_modules"))) {
    log("installing workspace dependencies (pnpm install)");
    await runOk("pnpm", ["install", ...(process.env.CI ? ["--frozen-lockfile"] : [])], { cwd: repo, stdout: "ignore" });
  }
  if (absent().length > 0) {
    log("building Berth (pnpm build)");
    await runOk("pnpm", ["build"], { cwd: repo, stdout: "ignore", env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" } });
  }
  if (absent().length > 0) throw new Error(`still missing after install and build: ${absent().join(", ")}`);
  return { berthd: join(repo, "node_modules/.bin/berthd"), berth: join(repo, "node_modules/.bin/berth") };
}

/**
 * Builds the fixture images (idempotent: kept in .fixtures/images across runs) and starts the
 * fixture registry on a free port; its stop is registered for clean-up.
 */
export async function startFixtures(repo, log) {
  const shared = resolve(process.env.BERTH_FIXTURES ?? join(repo, "../shared/fixtures"));
  const buildScript = join(shared, "build-images.sh");
  const registryScript = join(shared, "registry.sh");
  if (!existsSync(buildScript) || !existsSync(registryScript)) {
    throw new Error(`fixture scripts not found in ${shared} (expected ../shared/fixtures beside the repository, or set BERTH_FIXTURES)`);
  }
  const images = join(repo, ".fixtures/images");
  const storage = join(repo, ".fixtures/bench-registry");
  mkdirSync(images, { recursive: true });
  const t0 = performance.now();
  await runOk("bash", [buildScript, images], { stdout: "ignore" });
  log(`fixtures ready in ${images} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

  const port = await freePort(Number(process.env.BERTH_BENCH_REGISTRY_PORT ?? 5055));
  const env = { ...process.env, PORT: String(port) };
  const stop = () => run("bash", [registryScript, "stop", storage], { env });
  try {
    await runOk("bash", [registryScript, "start", storage, images], { env });
  } catch (err) {
    await stop();
    throw err;
  }
  onCleanup("stop the fixture registry", stop);
  // A registry left running by an interrupted run keeps its own port.
  const actual = Number(readFileSync(join(storage, "registry.port"), "utf8").trim());
  const host = `127.0.0.1:${actual}`;
  log(`fixture registry on ${host}`);

  const summary = JSON.parse(readFileSync(join(images, "fixtures.json"), "utf8"));
  const blob = (layout, digest) => join(images, layout, "blobs/sha256", digest.replace(/^sha256:/, ""));
  const tinyConfig = JSON.parse(readFileSync(blob("tiny", summary.tiny.config), "utf8"));
  return {
    shared,
    images,
    registry: host,
    tiny: `${host}/tiny:latest`,
    multi: `${host}/multi:latest`,
    multiLayers: summary.multi.layers.map((l) => ({ ...l, path: blob("multi", l.digest) })),
    multiBytes: summary.multi.compressedBytes,
    tinyLayer: blob("tiny", summary.tiny.layers[0].digest),
    /** Chain ID of tiny's only layer = its diff ID: the committed snapshot a pull leaves. */
    tinyChainId: tinyConfig.rootfs.diff_ids[0],
  };
}

async function freePort(start) {
  const { createServer } = await import("node:net");
  for (let port = start; port < start + 50; port++) {
    const ok = await new Promise((resolve) => {
      const srv = createServer();
      srv.once("error", () => resolve(false));
      srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error(`no free port in ${start}..${start + 49}`);
}

/** What the numbers were measured on. */
export async function machineInfo(bin, repo, dir) {
  const first = async (cmd, args) => (await run(cmd, args)).stdout.split("\n")[0].trim();
  let distro = "";
  try {
    distro = readFileSync("/etc/os-release", "utf8").match(/^PRETTY_NAME="?([^"\n]*)"?/m)?.[1] ?? "";
  } catch {}
  const cpu = cpus();
  return {
    cpus: cpu.length,
    cpuModel: cpu[0]?.model?.trim() ?? "",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    distro,
    cgroup: existsSync("/sys/fs/cgroup/cgroup.controllers") ? "v2" : existsSync("/sys/fs/cgroup/unified") ? "v1 (hybrid)" : "v1",
    filesystem: await first("findmnt", ["-no", "FSTYPE", "-T", dir]),
    containerd: await first(bin.containerd, ["--version"]),
    runc: await first(bin.runc, ["--version"]),
    berthd: (await first(bin.berthd, ["--version"])) || "berthd",
    node: process.version,
    commit: await first("git", ["-C", repo, "rev-parse", "--short", "HEAD"]),
  };
}
