#!/usr/bin/env node
import "./gc-tuning.js";
import { realpathSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import {
  BERTH_VERSION,
  ConfigError,
  createJsonLogger,
  decodePluginConfigs,
  defaultServerConfig,
  isLogLevel,
  loadConfigFile,
  renderConfig,
  type Logger,
  type PluginRegistration,
  type ServerConfig,
} from "@berth/core";
import { serverPlugins } from "../builtin/plugins.js";
import { BERTH_REVISION } from "../builtin/server-info.js";
import { findPluginPackages, importPlugins } from "../discovery/discover.js";
import { publishFromStdin } from "./publish.js";
import { startDaemon } from "../start-daemon.js";

const USAGE = `berthd: a container runtime that speaks containerd's API

Usage:
  berthd [flags]                 run the daemon
  berthd config default          print the default config (with every installed plugin)
  berthd config dump             print the effective config (file and flags applied)
  berthd publish --topic T --namespace NS
                                 publish the event (a protobuf Any) read from stdin through
                                 the running daemon at --address (what shims run)

Flags:
  -c, --config FILE      TOML config file (containerd's version-2 layout)
      --root DIR         persistent state directory (default /var/lib/berth)
      --state DIR        ephemeral state directory (default /run/berth)
  -a, --address PATH     gRPC socket (default /run/berth/berthd.sock)
  -l, --log-level LEVEL  trace, debug, info, warn, error or fatal
  -v, --version          print the version
  -h, --help             print this help
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: "string", short: "c" },
      root: { type: "string" },
      state: { type: "string" },
      address: { type: "string", short: "a" },
      "log-level": { type: "string", short: "l" },
      version: { type: "boolean", short: "v" },
      help: { type: "boolean", short: "h" },
      // publish's own flags; containerd's shims pass them after the command.
      topic: { type: "string" },
      namespace: { type: "string" },
    },
  });
  if (values.help) return print(USAGE);
  if (values.version) return print(`berthd ${BERTH_VERSION} ${BERTH_REVISION}\n`);

  const source = values.config ?? "defaults";
  const { config, warnings } = values.config ? await loadConfigFile(values.config) : { config: defaultServerConfig(), warnings: [] };
  applyFlags(config, values);
  const log = createJsonLogger({ level: config.debug.level });
  for (const w of warnings) log.warn("config", { file: source, key: w.key, problem: w.message });

  const [command, sub] = positionals;
  if (command === "publish") {
    await publishFromStdin({ address: config.grpc.address, topic: values.topic ?? "", namespace: values.namespace ?? "" }, process.stdin);
    return 0;
  }
  const plugins = await discoverPlugins(log);
  if (command === "config") {
    if (sub !== "default" && sub !== "dump") return fail(`unknown command "config ${sub ?? ""}"; try "config default"`);
    const effective = sub === "default" ? defaultServerConfig() : config;
    const all: PluginRegistration[] = [...serverPlugins, ...plugins];
    const { configs } = decodePluginConfigs(all, effective.plugins, source);
    return print(renderConfig(effective, all, configs));
  }
  if (command !== undefined) return fail(`unknown command "${command}"\n\n${USAGE}`);

  const daemon = await startDaemon({ plugins, config, configSource: source, log });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info("received signal, shutting down", { signal });
      resolve();
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  await daemon.close();
  log.info("berthd stopped");
  return 0;
}

function applyFlags(config: ServerConfig, flags: { root?: string; state?: string; address?: string; "log-level"?: string }) {
  if (flags.root) config.root = flags.root;
  if (flags.state) config.state = flags.state;
  if (flags.address) config.grpc.address = flags.address;
  const level = flags["log-level"];
  if (level !== undefined) {
    if (!isLogLevel(level)) throw new ConfigError("--log-level", [{ key: "log-level", message: `expected one of trace, debug, info, warn, error, fatal, got "${level}"` }]);
    config.debug.level = level;
  }
}

/** Plugins from packages installed beside berthd and beside the working directory. */
async function discoverPlugins(log: Logger): Promise<PluginRegistration[]> {
  const self = dirname(realpathSync(process.argv[1] ?? process.cwd()));
  return importPlugins(await findPluginPackages([self, process.cwd()]), log);
}

function print(text: string): number {
  process.stdout.write(text);
  return 0;
}

function fail(message: string): number {
  process.stderr.write(`berthd: ${message}\n`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`berthd: ${message}\n`);
    process.exit(1);
  },
);
