import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ensureFixtureImages, imagesDir, type FixtureName } from "./fixtures.js";
import { freePort } from "./free-port.js";
import { writeHtpasswd } from "./htpasswd.js";
import { exec, requireTool } from "./tools.js";

export interface RegistryAuth {
  /** Basic auth for these users (name → password); the images are pushed as the first. */
  readonly users?: Readonly<Record<string, string>>;
  /** An htpasswd file (bcrypt) of your own for basic auth. */
  readonly htpasswd?: string;
  /** Token auth: the registry trusts tokens signed by `rootCertBundle`'s key. */
  readonly token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
}

export interface RegistryOptions {
  readonly auth?: RegistryAuth;
  /** Serve HTTPS with this certificate; clientCas makes it ask for client certificates. */
  readonly tls?: { cert: string; key: string; clientCas?: string[] };
  /** Fixture layouts to push with skopeo (by directory name, tag latest). */
  readonly images?: readonly FixtureName[];
  /** skopeo --dest-creds for the pushes when auth is on (default: the first of `auth.users`). */
  readonly pushCredentials?: string;
  /** skopeo --dest-cert-dir (ca.crt, client.cert/.key) for pushes to a registry asking for client certificates. */
  readonly pushCertDir?: string;
}

export interface TestRegistry {
  /** 127.0.0.1:<port> */
  readonly host: string;
  readonly storage: string;
  /** Where the registry keeps a blob's bytes (to corrupt it). */
  blobPath(digest: string): string;
  log(): Promise<string>;
  stop(): Promise<void>;
}

/** Debian's docker-registry (CNCF distribution 2.x) on 127.0.0.1, storage in a fresh temp dir. */
export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  await requireTool("docker-registry", "docker-registry");
  if (opts.images?.length) {
    await requireTool("skopeo", "skopeo");
    await ensureFixtureImages();
  }
  if (opts.auth?.users) await requireTool("htpasswd", "apache2-utils");
  const storage = await mkdtemp(join(tmpdir(), "berth-registry-"));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const lines = [
    "version: 0.1",
    "log: { level: info, accesslog: { disabled: false } }",
    "storage:",
    `  filesystem: { rootdirectory: ${join(storage, "data")} }`,
    "  delete: { enabled: true }",
    "  maintenance: { uploadpurging: { enabled: false } }",
    "http:",
    `  addr: ${host}`,
  ];
  if (opts.tls) {
    lines.push("  tls:", `    certificate: ${opts.tls.cert}`, `    key: ${opts.tls.key}`);
    if (opts.tls.clientCas) lines.push(`    clientcas: [${opts.tls.clientCas.join(", ")}]`);
  }
  let htpasswd = opts.auth?.htpasswd;
  let pushCredentials = opts.pushCredentials;
  if (opts.auth?.users) {
    htpasswd = join(storage, "htpasswd");
    await writeHtpasswd(htpasswd, opts.auth.users);
    const [first] = Object.entries(opts.auth.users);
    pushCredentials ??= first && `${first[0]}:${first[1]}`;
  }
  if (htpasswd) lines.push("auth:", "  htpasswd:", "    realm: berth-test", `    path: ${htpasswd}`);
  if (opts.auth?.token) {
    const t = opts.auth.token;
    lines.push("auth:", "  token:", `    realm: ${t.realm}`, `    service: ${t.service}`, `    issuer: ${t.issuer}`, `    rootcertbundle: ${t.rootCertBundle}`);
  }
  const config = join(storage, "config.yml");
  await writeFile(config, lines.join("\n") + "\n");
  const logFile = join(storage, "registry.log");
  const log = createWriteStream(logFile);
  const child: ChildProcess = spawn("docker-registry", ["serve", config], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  let exited = false;
  child.once("exit", () => (exited = true));

  const stop = async () => {
    if (!exited) {
      const gone = new Promise((ok) => child.once("exit", ok));
      child.kill("SIGTERM");
      await Promise.race([gone, sleep(5_000).then(() => child.kill("SIGKILL"))]);
    }
    await rm(storage, { recursive: true, force: true });
  };

  try {
    await waitForPort(port, () => exited, logFile);
    for (const image of opts.images ?? []) {
      const args = ["--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false"];
      if (pushCredentials) args.push("--dest-creds", pushCredentials);
      if (opts.pushCertDir) args.push("--dest-cert-dir", opts.pushCertDir);
      if (image === "tiny-multiarch") args.push("--all");
      args.push(`oci:${join(imagesDir, image)}:latest`, `docker://${host}/${image}:latest`);
      await exec("skopeo", args, { maxBuffer: 16 << 20 });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    host,
    storage,
    blobPath: (digest) => {
      const hex = digest.replace(/^sha256:/, "");
      return join(storage, "data/docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data");
    },
    log: () => readFile(logFile, "utf8"),
    stop,
  };
}

async function waitForPort(port: number, exited: () => boolean, logFile: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (exited()) throw new Error(`docker-registry exited: ${await readFile(logFile, "utf8").catch(() => "")}`);
    const open = await new Promise<boolean>((ok) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => (s.destroy(), ok(true)));
      s.once("error", () => ok(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`docker-registry did not listen on ${port}: ${await readFile(logFile, "utf8").catch(() => "")}`);
}
