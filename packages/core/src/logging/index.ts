export { LOG_LEVELS, isLogLevel, createJsonLogger, silentLogger } from "./logger.js";
export type { LogLevel, LogFields, Logger, JsonLoggerOptions } from "./logger.js";
