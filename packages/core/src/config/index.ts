export { field, parseDuration, decodeTable, encodeTable, schemaDefaults, toSnakeCase } from "./schema.js";
export type { FieldSpec, Schema, ConfigOf, ConfigIssue } from "./schema.js";
export {
  DEFAULT_ROOT,
  DEFAULT_STATE,
  DEFAULT_ADDRESS,
  ConfigError,
  decodeServerConfig,
  defaultServerConfig,
  loadConfigFile,
  decodePluginConfigs,
} from "./server-config.js";
export type { ServerConfig, ProxyPluginConfig, DecodedConfig } from "./server-config.js";
export { renderConfig } from "./render-config.js";
