import { invalidArgument } from "@berth/core";
import { validateNetworkName } from "./validate.js";

/** One plugin of a chain, as the config file wrote it. */
export interface PluginConfig {
  /** The binary to run, looked up in the bin dirs. */
  readonly type: string;
  /** Capability names the plugin declares; only these receive the runtime's capability args. */
  readonly capabilities: ReadonlySet<string>;
  /** The plugin's whole JSON object: what it gets on stdin, plus name, cniVersion, prevResult and runtimeConfig. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** A network: a named chain of plugins run in order on ADD and in reverse on DEL. */
export interface NetworkConfigList {
  readonly name: string;
  readonly cniVersion: string;
  readonly disableCheck: boolean;
  readonly plugins: readonly PluginConfig[];
  /** The file it came from (or a description of where), for error messages. */
  readonly source: string;
  /** The list as JSON; cached with each result so DEL after a restart uses what ADD used. */
  readonly json: string;
}

// With no cniVersion, libcni and the plugins treat a config as the oldest spec version.
const DEFAULT_CNI_VERSION = "0.1.0";

/**
 * Parses a config the way its file name says: `.conflist` holds a list (`plugins`), anything
 * else (`.conf`, `.json`) one plugin that becomes a list of one. Errors name `source`.
 */
export function parseNetworkConfigFile(source: string, text: string): NetworkConfigList {
  return source.endsWith(".conflist") ? parseNetworkConfigList(source, text) : parseSingleNetworkConfig(source, text);
}

export function parseNetworkConfigList(source: string, text: string): NetworkConfigList {
  const obj = parseObject(source, text);
  const name = networkName(source, obj);
  const cniVersion = versionOf(source, obj);
  const plugins = obj.plugins;
  if (!Array.isArray(plugins)) throw invalid(source, `"plugins" must be an array`);
  if (plugins.length === 0) throw invalid(source, `"plugins" is empty`);
  return {
    name,
    cniVersion,
    disableCheck: flag(source, obj, "disableCheck"),
    plugins: plugins.map((p, i) => pluginOf(`${source} (plugins[${i}])`, p)),
    source,
    json: text,
  };
}

export function parseSingleNetworkConfig(source: string, text: string): NetworkConfigList {
  const obj = parseObject(source, text);
  // A list saved under a .conf name is a common mistake; say so instead of "no type".
  if (obj.type === undefined && Array.isArray(obj.plugins)) {
    throw invalid(source, `it holds a plugin list ("plugins"); name the file .conflist`);
  }
  const name = networkName(source, obj);
  const cniVersion = versionOf(source, obj);
  const plugin = pluginOf(source, obj);
  const json = JSON.stringify({ cniVersion, name, plugins: [obj] });
  return { name, cniVersion, disableCheck: false, plugins: [plugin], source, json };
}

function parseObject(source: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`invalid CNI network config ${source}: ${(err as Error).message}`, err);
  }
  if (!isObject(value)) throw invalid(source, "not a JSON object");
  return value;
}

function networkName(source: string, obj: Record<string, unknown>): string {
  if (typeof obj.name !== "string" || obj.name === "") throw invalid(source, `"name" is missing`);
  const why = validateNetworkName(obj.name);
  if (why) throw invalid(source, why);
  return obj.name;
}

function versionOf(source: string, obj: Record<string, unknown>): string {
  const v = obj.cniVersion ?? DEFAULT_CNI_VERSION;
  if (typeof v !== "string" || !/^\d+\.\d+\.\d+$/.test(v)) throw invalid(source, `"cniVersion" ${JSON.stringify(v)} is not a version`);
  return v;
}

function flag(source: string, obj: Record<string, unknown>, key: string): boolean {
  const v = obj[key];
  if (v === undefined) return false;
  // libcni accepts the strings too; configs in the wild use both.
  if (v === true || v === "true") return true;
  if (v === false || v === "false") return false;
  throw invalid(source, `"${key}" must be true or false`);
}

function pluginOf(source: string, value: unknown): PluginConfig {
  if (!isObject(value)) throw invalid(source, "a plugin must be a JSON object");
  if (typeof value.type !== "string" || value.type === "") throw invalid(source, `plugin "type" is missing`);
  if (value.type.includes("/")) throw invalid(source, `plugin type ${JSON.stringify(value.type)} must be a file name`);
  const caps = value.capabilities ?? {};
  if (!isObject(caps)) throw invalid(source, `"capabilities" must be an object`);
  const declared = new Set<string>();
  for (const [cap, on] of Object.entries(caps)) {
    if (typeof on !== "boolean") throw invalid(source, `capability "${cap}" must be true or false`);
    if (on) declared.add(cap);
  }
  return { type: value.type, capabilities: declared, raw: value };
}

function invalid(source: string, why: string): Error {
  return invalidArgument(`invalid CNI network config ${source}: ${why}`);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
