import { readdir, readFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeCriCniConf, type CriCniNetwork, type CriCniOptions } from "./cri-cni.js";
import { buildCriImages, sharedFixturesDir, type CriImageSummary } from "./cri-images.js";
import { startRegistry } from "./registry.js";
import { exec, requireTool } from "./tools.js";

export interface CriRegistry {
  /** 127.0.0.1:<port>, plain HTTP, no auth. */
  readonly host: string;
  /** What was pushed: every image of buildCriImages(), under its original path. */
  readonly images: CriImageSummary;
  /** The original references (`registry.k8s.io/pause:3.6`, `gcr.io/k8s-staging-cri-tools/…`). */
  readonly references: readonly string[];
  /** Writes `<dir>/{registry.k8s.io,gcr.io}/hosts.toml` sending both registries here; returns `dir`. */
  writeHostsDir(dir: string): Promise<string>;
  /** writeCriCniConf(): the pods' CNI network, with a bridge and subnet of its own. */
  writeCniConfDir(dir: string, opts?: CriCniOptions): Promise<CriCniNetwork>;
  stop(): Promise<void>;
}

/**
 * A registry on loopback (Debian's docker-registry on a free port) holding the CRI images under
 * their original paths without the registry host (`registry.k8s.io/e2e-test-images/busybox:1.29-2`
 * is `<host>/e2e-test-images/busybox:1.29-2`), with their digests: a runtime pointed at it by
 * writeHostsDir() pulls them by their original names, as critest expects.
 */
export async function startCriRegistry(): Promise<CriRegistry> {
  await requireTool("skopeo", "skopeo");
  await requireTool("jq", "jq");
  const images = await buildCriImages();
  const registry = await startRegistry();
  try {
    await exec("bash", [join(sharedFixturesDir, "cri", "push-cri-images.sh"), registry.host, images.dir], { maxBuffer: 16 << 20 });
  } catch (err) {
    await registry.stop();
    throw err;
  }
  return {
    host: registry.host,
    images,
    references: Object.keys(images.images),
    writeHostsDir: (dir) => writeCriHostsDir(dir, registry.host),
    writeCniConfDir: (dir, opts) => writeCriCniConf(dir, opts),
    stop: () => registry.stop(),
  };
}

/**
 * containerd's registry host directory (certs.d layout) from ../shared/fixtures/cri/certs.d, with
 * `registryHost` in place of the port placeholder: every registry named there resolves and pulls
 * only from it, so a missing image fails at once with "not found" instead of reaching out.
 */
export async function writeCriHostsDir(dir: string, registryHost: string): Promise<string> {
  const templates = join(sharedFixturesDir, "cri", "certs.d");
  for (const name of await readdir(templates)) {
    const template = await readFile(join(templates, name, "hosts.toml"), "utf8");
    await mkdir(join(dir, name), { recursive: true });
    await writeFile(join(dir, name, "hosts.toml"), template.replaceAll("127.0.0.1:PORT", registryHost));
  }
  return dir;
}
