import { isAbsolute, join } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import { invalidArgument, parseDuration } from "@berth/core";
import { ALL_CAPABILITIES, type HostCapability, type TlsSettings } from "./registry-host.js";

/**
 * One endpoint as hosts.toml describes it. `host` is undefined for the server entry when the
 * file has no `server = …`: the caller fills in the registry's own default.
 */
export interface HostEntry {
  readonly scheme?: "http" | "https" | undefined;
  readonly host?: string | undefined;
  readonly path: string;
  readonly capabilities: ReadonlySet<HostCapability>;
  readonly tls: TlsSettings;
  readonly header: Readonly<Record<string, readonly string[]>>;
  readonly dialTimeoutMs?: number | undefined;
}

/**
 * Parses a hosts.toml (containerd's layout): `[host."<url>"]` tables in file order, then the
 * top-level `server` (possibly absent) as the last entry. Relative ca/client paths are taken
 * from `baseDir`. Anything malformed is InvalidArgument naming `file`.
 */
export function parseHostsFile(text: string, baseDir: string, file = join(baseDir, "hosts.toml")): HostEntry[] {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    const where = err instanceof TomlError ? ` at line ${err.line}, column ${err.column}` : "";
    throw invalidArgument(`${file}: not valid TOML${where}: ${(err as Error).message.split("\n")[0]}`, err);
  }
  const fail = (what: string) => invalidArgument(`${file}: ${what}`);
  const entries: HostEntry[] = [];
  const hosts = doc["host"];
  if (hosts !== undefined) {
    if (!isTable(hosts)) throw fail(`"host" must be a table of [host."<url>"] tables`);
    // smol-toml keeps keys in the order the file introduces them: that order is the mirror order.
    for (const [url, table] of Object.entries(hosts)) {
      if (!isTable(table)) throw fail(`[host."${url}"] must be a table`);
      entries.push(parseEntry(url, table, baseDir, (what) => fail(`[host."${url}"]: ${what}`)));
    }
  }
  const server = doc["server"];
  if (server !== undefined && typeof server !== "string") throw fail(`"server" must be a string URL`);
  entries.push(parseEntry(server || undefined, doc, baseDir, fail));
  return entries;
}

function parseEntry(
  server: string | undefined,
  table: Record<string, unknown>,
  baseDir: string,
  fail: (what: string) => Error,
): HostEntry {
  const overridePath = optionalBoolean(table, "override_path", fail) ?? false;
  let scheme: HostEntry["scheme"];
  let host: string | undefined;
  let path = overridePath ? "" : "/v2";
  if (server !== undefined) {
    const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(server);
    if (hasScheme && !/^https?:\/\//i.test(server)) throw fail(`server "${server}" must be http or https`);
    let url: URL;
    try {
      url = new URL(hasScheme ? server : `https://${server}`);
    } catch {
      throw fail(`cannot parse server URL "${server}"`);
    }
    scheme = url.protocol === "http:" ? "http" : "https";
    host = url.host;
    const cleaned = cleanPath(url.pathname);
    if (cleaned !== "") path = cleaned.endsWith("/v2") || overridePath ? cleaned : `${cleaned}/v2`;
  }

  return {
    scheme,
    host,
    path,
    capabilities: parseCapabilities(table["capabilities"], fail),
    tls: {
      skipVerify: optionalBoolean(table, "skip_verify", fail),
      caFiles: parseCa(table["ca"], baseDir, fail),
      clientPairs: parseClient(table["client"], baseDir, fail),
    },
    header: parseHeader(table["header"], fail),
    dialTimeoutMs: parseDialTimeout(table["dial_timeout"], fail),
  };
}

function parseCapabilities(value: unknown, fail: (what: string) => Error): ReadonlySet<HostCapability> {
  if (value === undefined) return new Set(ALL_CAPABILITIES);
  if (!Array.isArray(value)) throw fail(`capabilities must be a list such as ["pull", "resolve"]`);
  if (value.length === 0) return new Set(ALL_CAPABILITIES);
  const caps = new Set<HostCapability>();
  for (const c of value) {
    const name = typeof c === "string" ? c.toLowerCase() : "";
    if (!(ALL_CAPABILITIES as readonly string[]).includes(name)) {
      throw fail(`unknown capability ${JSON.stringify(c)} (known: ${ALL_CAPABILITIES.join(", ")})`);
    }
    caps.add(name as HostCapability);
  }
  return caps;
}

function parseCa(value: unknown, baseDir: string, fail: (what: string) => Error): string[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string") return [absolute(value, baseDir)];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value.map((v) => absolute(v, baseDir));
  throw fail(`ca must be a file path or a list of file paths`);
}

/** client = "both.pem" | ["both.pem", …] | [["cert.pem", "key.pem"], …] */
function parseClient(value: unknown, baseDir: string, fail: (what: string) => Error): TlsSettings["clientPairs"] {
  if (value === undefined) return undefined;
  const items = typeof value === "string" ? [value] : value;
  if (!Array.isArray(items)) throw fail(`client must be a file path, a list of them, or a list of [cert, key] pairs`);
  return items.map((item) => {
    if (typeof item === "string") return [absolute(item, baseDir), undefined] as const;
    if (Array.isArray(item) && item.length === 2 && item.every((v) => typeof v === "string")) {
      return [absolute(item[0] as string, baseDir), absolute(item[1] as string, baseDir)] as const;
    }
    throw fail(`client entry ${JSON.stringify(item)} must be a path or a [cert, key] pair`);
  });
}

function parseHeader(value: unknown, fail: (what: string) => Error): Record<string, readonly string[]> {
  if (value === undefined) return {};
  if (!isTable(value)) throw fail(`header must be a table of name = "value" or name = ["value", …]`);
  const header: Record<string, readonly string[]> = {};
  for (const [name, v] of Object.entries(value)) {
    if (typeof v === "string") header[name] = [v];
    else if (Array.isArray(v) && v.every((x) => typeof x === "string")) header[name] = v as string[];
    else throw fail(`header ${name} must be a string or a list of strings`);
  }
  return header;
}

function parseDialTimeout(value: unknown, fail: (what: string) => Error): number | undefined {
  if (value === undefined || value === "") return undefined;
  const ms = typeof value === "string" ? parseDuration(value) : undefined;
  if (ms === undefined) throw fail(`dial_timeout ${JSON.stringify(value)} is not a duration such as "5s"`);
  return ms;
}

function optionalBoolean(table: Record<string, unknown>, key: string, fail: (what: string) => Error): boolean | undefined {
  const v = table[key];
  if (v === undefined || typeof v === "boolean") return v;
  throw fail(`${key} must be true or false`);
}

function cleanPath(p: string): string {
  const parts = p.split("/").filter((s) => s !== "" && s !== ".");
  return parts.length === 0 ? "" : `/${parts.join("/")}`;
}

function absolute(p: string, baseDir: string): string {
  return isAbsolute(p) ? p : join(baseDir, p);
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}
