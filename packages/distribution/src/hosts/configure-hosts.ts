import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { DEFAULT_DOMAIN } from "../reference/reference.js";
import { parseHostsFile, type HostEntry } from "./hosts-file.js";
import {
  ALL_CAPABILITIES,
  isLoopbackHost,
  portOf,
  type RegistryHost,
  type RegistryHosts,
  type TlsSettings,
} from "./registry-host.js";

export interface HostsOptions {
  /**
   * A certs.d-style directory (containerd's config_path): `<dir>/<host>/hosts.toml`, or
   * `<dir>/<host>_<port>_/…`, or `<dir>/_default/…`; without hosts.toml, the folder's
   * `*.crt` are CAs and `*.cert`/`*.key` client pairs (docker's layout).
   */
  readonly configPath?: string | undefined;
  /**
   * Plain HTTP for registries that hosts.toml does not configure: true for all of them (ctr's
   * --plain-http), or a predicate on the host. Loopback hosts with a port are tried over HTTPS
   * and fall back to HTTP anyway, as containerd does.
   */
  readonly plainHttp?: boolean | ((host: string) => boolean) | undefined;
}

/** containerd's ConfigureHosts: hosts.toml when there is one, else the registry itself. */
export function configureHosts(opts: HostsOptions = {}): RegistryHosts {
  const plainHttp = typeof opts.plainHttp === "function" ? opts.plainHttp : () => opts.plainHttp === true;
  return async (domain) => {
    let entries: HostEntry[] | undefined;
    if (opts.configPath !== undefined) {
      const dir = await findHostDir(opts.configPath, domain);
      if (dir !== undefined) entries = await loadHostDir(dir);
    }
    entries ??= [{ path: "/v2", capabilities: new Set(ALL_CAPABILITIES), tls: {}, header: {} }];
    return entries.map((entry, i) => {
      const isServer = i === entries.length - 1;
      return toRegistryHost(isServer && entry.host === undefined ? withDefaultServer(entry, domain, plainHttp(domain)) : entry);
    });
  };
}

/** The registry's own endpoint when hosts.toml names no server. */
function withDefaultServer(entry: HostEntry, domain: string, plain: boolean): HostEntry & { httpFallback?: boolean } {
  if (domain === DEFAULT_DOMAIN) return { ...entry, scheme: "https", host: "registry-1.docker.io", path: "/v2" };
  if (plain) return { ...entry, scheme: "http", host: domain, path: "/v2" };
  const port = portOf(domain);
  if (isLoopbackHost(domain) && port !== undefined && port !== "443") {
    // A local registry on a port is usually plain HTTP; try TLS (without verification) first.
    const tls: TlsSettings = { ...entry.tls, skipVerify: entry.tls.skipVerify ?? true };
    return { ...entry, scheme: "https", host: domain, path: "/v2", tls, httpFallback: port !== "80" };
  }
  return { ...entry, scheme: "https", host: domain, path: "/v2" };
}

function toRegistryHost(entry: HostEntry & { httpFallback?: boolean }): RegistryHost {
  const tlsConfigured = entry.tls.skipVerify !== undefined || entry.tls.caFiles !== undefined || entry.tls.clientPairs !== undefined;
  let scheme = entry.scheme ?? "https";
  let httpFallback = entry.httpFallback ?? false;
  // containerd: an http server with TLS settings and an ambiguous port is tried as https first.
  if (scheme === "http" && tlsConfigured && portOf(entry.host!) !== "80") {
    scheme = "https";
    httpFallback = true;
  }
  return {
    scheme,
    host: entry.host!,
    path: entry.path,
    capabilities: entry.capabilities,
    tls: tlsConfigured ? entry.tls : undefined,
    header: entry.header,
    httpFallback,
    dialTimeoutMs: entry.dialTimeoutMs,
  };
}

/** `<root>/<host>_<port>_`, `<root>/<host:port>`, `<root>/_default`: the first that exists. */
async function findHostDir(root: string, domain: string): Promise<string | undefined> {
  const candidates: string[] = [];
  const colon = domain.lastIndexOf(":");
  if (colon > 0) candidates.push(join(root, `${domain.slice(0, colon)}_${domain.slice(colon + 1)}_`));
  candidates.push(join(root, domain), join(root, "_default"));
  for (const dir of candidates) {
    try {
      if ((await stat(dir)).isDirectory()) return dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  return undefined;
}

async function loadHostDir(dir: string): Promise<HostEntry[]> {
  const file = join(dir, "hosts.toml");
  let text = "";
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  // Unlike containerd, a broken hosts.toml is an error: silently using other endpoints hides it.
  if (text.trim() !== "") return parseHostsFile(text, dir, file);
  return [await loadCertFiles(dir)];
}

/** docker's certs.d: *.crt are CAs; *.cert with a matching *.key are client pairs. */
async function loadCertFiles(dir: string): Promise<HostEntry> {
  const names = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name).sort();
  const caFiles = names.filter((n) => n.endsWith(".crt")).map((n) => join(dir, n));
  const clientPairs = names
    .filter((n) => n.endsWith(".cert"))
    .map((n) => {
      const key = `${n.slice(0, -".cert".length)}.key`;
      return [join(dir, n), names.includes(key) ? join(dir, key) : undefined] as const;
    });
  return {
    path: "/v2",
    capabilities: new Set(ALL_CAPABILITIES),
    tls: { caFiles: caFiles.length > 0 ? caFiles : undefined, clientPairs: clientPairs.length > 0 ? clientPairs : undefined },
    header: {},
  };
}
