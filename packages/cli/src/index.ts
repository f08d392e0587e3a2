/** @berth/cli: the `berth` command, runnable in-process for tests and embedders. */
export { runCli, UsageError, type CliIo } from "./main.js";
