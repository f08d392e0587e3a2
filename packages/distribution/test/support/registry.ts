import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { imagesDir } from "./fixtures.js";
import { exec, requireTool } from "./tools.js";

export interface RegistryAuth {
  /** htpasswd file (bcrypt) for basic auth. */
  readonly htpasswd?: string;
  /** Token auth: the registry trusts tokens signed by `rootCertBundle`'s key. */
  readonly token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
}

export interface RegistryOptions {
  readonly auth?: RegistryAuth;
  /** Serve HTTPS with this certificate; clientCas makes it ask for client certificates. */
  readonly tls?: { cert: string; key: string; clientCas?: string[] };
  /** Fixture layouts to push with skopeo (by directory name, tag latest). */
  readonly images?: readonly string[];
  /** skopeo --dest-creds for the pushes when auth is on. */
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

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, "127.0.0.1", ok));
  const port = (srv.address() as { port: number }).port;
  await new Promise((ok) => srv.close(ok));
  return port;
}

/** Debian's docker-registry (CNCF distribution 2.x) on 127.0.0.1, storage in a fresh temp dir. */
export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  await requireTool("docker-registry", "docker-registry");
  if (opts.images?.length) await requireTool("skopeo", "skopeo");
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
  if (opts.auth?.htpasswd) lines.push("auth:", "  htpasswd:", "    realm: berth-test", `    path: ${opts.auth.htpasswd}`);
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
      if (opts.pushCredentials) args.push("--dest-creds", opts.pushCredentials);
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
