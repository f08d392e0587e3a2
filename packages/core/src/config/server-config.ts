import { readFile } from "node:fs/promises";
import { parse as parseToml, TomlError } from "smol-toml";
import { invalidArgument } from "../errdefs/index.js";
import { LOG_LEVELS } from "../logging/index.js";
import { pluginUri, type PluginRegistration } from "../plugin/define-plugin.js";
import { decodeTable, field, isTable, type ConfigIssue, type ConfigOf } from "./schema.js";

/** Where Berth keeps things unless told otherwise (containerd's layout, renamed). */
export const DEFAULT_ROOT = "/var/lib/berth";
export const DEFAULT_STATE = "/run/berth";
export const DEFAULT_ADDRESS = "/run/berth/berthd.sock";

const topLevel = {
  version: field.integer(2, 2, 3),
  root: field.string(DEFAULT_ROOT),
  state: field.string(DEFAULT_STATE),
  disabledPlugins: field.stringArray([]),
  requiredPlugins: field.stringArray([]),
  /** How long one plugin's init may take; containerd has no such limit, a hung plugin blocks forever. */
  pluginInitTimeout: field.duration(60_000),
};
const grpcSection = {
  address: field.string(DEFAULT_ADDRESS),
  tcpAddress: field.string(""),
  uid: field.integer(0, 0),
  gid: field.integer(0, 0),
  maxRecvMessageSize: field.integer(16 << 20, 1),
  maxSendMessageSize: field.integer(16 << 20, 1),
};
const ttrpcSection = {
  address: field.string(""),
  uid: field.integer(0, 0),
  gid: field.integer(0, 0),
};
const debugSection = {
  address: field.string(""),
  level: field.oneOf<(typeof LOG_LEVELS)[number]>("info", LOG_LEVELS),
  format: field.oneOf("json", ["json"] as const),
};
const metricsSection = {
  address: field.string(""),
  grpcHistogram: field.boolean(true),
};
const proxyPluginSection = {
  type: field.oneOf("snapshot", ["snapshot", "content", "diff"] as const),
  address: field.string(""),
  exports: field.stringMap({}),
};

export type ProxyPluginConfig = ConfigOf<typeof proxyPluginSection>;

export interface ServerConfig extends ConfigOf<typeof topLevel> {
  grpc: ConfigOf<typeof grpcSection>;
  ttrpc: ConfigOf<typeof ttrpcSection>;
  debug: ConfigOf<typeof debugSection>;
  metrics: ConfigOf<typeof metricsSection>;
  /** Raw `[plugins."<type>.<id>"]` tables, decoded against each plugin's schema at load. */
  plugins: Record<string, unknown>;
  proxyPlugins: Record<string, ProxyPluginConfig>;
}

export interface DecodedConfig {
  config: ServerConfig;
  warnings: ConfigIssue[];
}

/** Thrown for a config that cannot be used: every issue, each naming its key, and the file. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly source: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(`invalid configuration in ${source}:\n${issues.map((i) => `  ${i.key}: ${i.message}`).join("\n")}`);
  }
}

/**
 * Decodes a parsed TOML document into the server config. `source` names where it came from
 * (a file path, "defaults") for messages. Unknown keys are warnings; bad values are errors.
 */
export function decodeServerConfig(doc: Record<string, unknown>, source: string): DecodedConfig {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const take = <C>(result: { value: C; errors: ConfigIssue[]; warnings: ConfigIssue[] }): C => {
    errors.push(...result.errors);
    warnings.push(...result.warnings);
    return result.value;
  };
  const sections = new Set(["grpc", "ttrpc", "debug", "metrics", "plugins", "proxy_plugins"]);
  const top = Object.fromEntries(Object.entries(doc).filter(([k]) => !sections.has(k)));

  const proxyPlugins: Record<string, ProxyPluginConfig> = {};
  const proxies = doc["proxy_plugins"] ?? {};
  if (!isTable(proxies)) errors.push({ key: "proxy_plugins", message: "expected a table" });
  else {
    for (const [name, table] of Object.entries(proxies)) {
      const proxy = take(decodeTable(proxyPluginSection, table, `proxy_plugins.${name}`));
      if (proxy.address === "") errors.push({ key: `proxy_plugins.${name}.address`, message: "expected a socket path, got nothing" });
      proxyPlugins[name] = proxy;
    }
  }
  const plugins = doc["plugins"] ?? {};
  if (!isTable(plugins)) errors.push({ key: "plugins", message: "expected a table" });

  const config: ServerConfig = {
    ...take(decodeTable(topLevel, top, "")),
    grpc: take(decodeTable(grpcSection, doc["grpc"], "grpc")),
    ttrpc: take(decodeTable(ttrpcSection, doc["ttrpc"], "ttrpc")),
    debug: take(decodeTable(debugSection, doc["debug"], "debug")),
    metrics: take(decodeTable(metricsSection, doc["metrics"], "metrics")),
    plugins: isTable(plugins) ? plugins : {},
    proxyPlugins,
  };
  if (errors.length > 0) throw new ConfigError(source, errors);
  return { config, warnings };
}

/** The config a daemon runs with when given no file. */
export function defaultServerConfig(): ServerConfig {
  return decodeServerConfig({}, "defaults").config;
}

/** Reads and decodes a TOML config file; a syntax error names the file, line and column. */
export async function loadConfigFile(path: string): Promise<DecodedConfig> {
  const text = await readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
    throw invalidArgument(`cannot read config file ${path}: ${err.code === "ENOENT" ? "no such file" : err.message}`, err);
  });
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      throw new ConfigError(path, [{ key: `line ${err.line}, column ${err.column}`, message: err.message.split("\n")[0] ?? "TOML syntax error" }]);
    }
    throw err;
  }
  return decodeServerConfig(doc, path);
}

/**
 * Decodes each installed plugin's `[plugins."<uri>"]` table against its schema. Tables for
 * plugins that are not installed are warnings (the package may simply be absent).
 */
export function decodePluginConfigs(
  registrations: readonly PluginRegistration[],
  tables: Record<string, unknown>,
  source: string,
): { configs: Map<string, unknown>; warnings: ConfigIssue[] } {
  const configs = new Map<string, unknown>();
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const uris = new Set<string>();
  for (const reg of registrations) {
    const uri = pluginUri(reg);
    uris.add(uri);
    if (!reg.config) continue;
    const result = decodeTable(reg.config, tables[uri], `plugins."${uri}"`);
    configs.set(uri, result.value);
    errors.push(...result.errors);
    warnings.push(...result.warnings);
  }
  for (const uri of Object.keys(tables)) {
    if (!uris.has(uri)) warnings.push({ key: `plugins."${uri}"`, message: "no such plugin is installed (ignored)" });
  }
  if (errors.length > 0) throw new ConfigError(source, errors);
  return { configs, warnings };
}
