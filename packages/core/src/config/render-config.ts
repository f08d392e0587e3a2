import { stringify } from "smol-toml";
import { pluginUri, type PluginRegistration } from "../plugin/define-plugin.js";
import { encodeTable, schemaDefaults, toSnakeCase } from "./schema.js";
import type { ServerConfig } from "./server-config.js";

/**
 * The full config as TOML, in containerd's version-2 layout: server settings, then one
 * `[plugins."<uri>"]` table per installed plugin with its effective values.
 */
export function renderConfig(
  config: ServerConfig,
  registrations: readonly PluginRegistration[],
  pluginConfigs: ReadonlyMap<string, unknown>,
): string {
  const { grpc, ttrpc, debug, metrics, plugins: _raw, proxyPlugins, ...top } = config;
  const snake = (obj: object) => Object.fromEntries(Object.entries(obj).map(([k, v]) => [toSnakeCase(k), v]));
  const plugins: Record<string, unknown> = {};
  for (const reg of [...registrations].sort((a, b) => pluginUri(a).localeCompare(pluginUri(b)))) {
    const uri = pluginUri(reg);
    plugins[uri] = reg.config ? encodeTable(reg.config, pluginConfigs.get(uri) ?? schemaDefaults(reg.config)) : {};
  }
  const doc = {
    ...snake(top),
    plugin_init_timeout: `${config.pluginInitTimeout}ms`,
    grpc: snake(grpc),
    ttrpc: snake(ttrpc),
    debug: snake(debug),
    metrics: snake(metrics),
    plugins,
    proxy_plugins: Object.fromEntries(Object.entries(proxyPlugins).map(([name, p]) => [name, snake(p)])),
  };
  return stringify(doc) + "\n";
}
