import { execFile, spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { afterThisTest, tempDir } from "./temp.js";
import { treeManifest, type ManifestEntry } from "./tree-manifest.js";

const run = promisify(execFile);

/** Fails with a clear message when a binary the reference needs is missing. */
async function requireTool(name: string, pkg: string): Promise<void> {
  try {
    await run("which", [name]);
  } catch {
    throw new Error(`${name} is not installed: apt-get install ${pkg} (the reference unpack is Debian's containerd's)`);
  }
}

export interface PrivateContainerd {
  readonly dir: string;
  readonly address: string;
  ctr(args: readonly string[]): Promise<string>;
}

/**
 * Debian's containerd with its own root, state, sockets and opt dir in a temp dir (CRI off), so
 * it never meets a system containerd. Stopped after the test.
 */
export async function startPrivateContainerd(): Promise<PrivateContainerd> {
  await requireTool("containerd", "containerd");
  await requireTool("ctr", "containerd");
  const dir = await tempDir("berth-differ-containerd-");
  const address = join(dir, "containerd.sock");
  const q = JSON.stringify;
  writeFileSync(
    join(dir, "config.toml"),
    [
      "version = 2",
      `root = ${q(join(dir, "root"))}`,
      `state = ${q(join(dir, "state"))}`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      `[grpc]\n  address = ${q(address)}`,
      `[ttrpc]\n  address = ${q(`${address}.ttrpc`)}`,
      '[debug]\n  address = ""\n  level = "warn"',
      '[metrics]\n  address = ""',
      `[plugins."io.containerd.internal.v1.opt"]\n  path = ${q(join(dir, "opt"))}`,
      "",
    ].join("\n"),
  );
  const logFd = openSync(join(dir, "containerd.log"), "a");
  const proc: ChildProcess = spawn("containerd", ["--config", join(dir, "config.toml")], { stdio: ["ignore", logFd, logFd] });
  closeSync(logFd);
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  afterThisTest(async () => {
    proc.kill("SIGTERM");
    await Promise.race([exited, sleep(10_000).then(() => proc.kill("SIGKILL"))]);
    await exited;
  });
  const ctr = async (args: readonly string[]) => (await run("ctr", ["-a", address, "-n", "berth-test", ...args], { maxBuffer: 1 << 26 })).stdout;
  for (let i = 0; ; i++) {
    try {
      await ctr(["version"]);
      break;
    } catch (err) {
      if (i > 100 || proc.exitCode !== null) throw new Error(`containerd did not start (see ${dir}/containerd.log)`, { cause: err });
      await sleep(100);
    }
  }
  return { dir, address, ctr };
}

/**
 * How Debian's containerd unpacks the OCI layout `layout`: imported, unpacked by its overlayfs
 * snapshotter, a view of the top snapshot mounted (`ctr images mount`) and walked.
 */
export async function containerdManifest(layout: string): Promise<ManifestEntry[]> {
  const containerd = await startPrivateContainerd();
  const archive = join(containerd.dir, "image.tar");
  await run("tar", ["-cf", archive, "-C", layout, "."]);
  await containerd.ctr(["images", "import", "--base-name", "berth.test/image", archive]);
  const [name] = (await containerd.ctr(["images", "ls", "-q"])).split("\n").filter(Boolean);
  if (!name) throw new Error("containerd imported no image");
  const target = join(containerd.dir, "mnt");
  await run("mkdir", [target]);
  await containerd.ctr(["images", "mount", name, target]);
  try {
    return treeManifest(target);
  } finally {
    await containerd.ctr(["images", "unmount", "--rm", target]);
  }
}
