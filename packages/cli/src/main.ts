import { parseArgs } from "node:util";
import { createClient } from "@berth/client";
import { BERTH_VERSION } from "@berth/core";
import { eventsCommand } from "./commands/events.js";
import { pluginsListCommand } from "./commands/plugins.js";
import { versionCommand } from "./commands/version.js";
import { globalDefaults } from "./global-options.js";

const USAGE = `berth: command-line client for Berth (and containerd), in the manner of ctr

Usage: berth [global options] COMMAND [options] [args]

Commands:
  version                      client and server versions
  plugins ls [-d] [FILTER…]    plugins with their status (alias: plugins list, plugin ls)
  events [FILTER…]             print events as they happen (alias: event)

Global options:
  -a, --address PATH     daemon socket (env CONTAINERD_ADDRESS; default /run/berth/berthd.sock)
  -n, --namespace NAME   namespace (env CONTAINERD_NAMESPACE; default "default")
      --timeout MS       deadline for each call
  -v, --version          print the client version
  -h, --help             print this help
`;

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM, ending streaming commands. */
  signal: AbortSignal;
}

/** Runs the CLI with `argv` (no node/script prefix); returns the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const defaults = globalDefaults(io.env);
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      address: { type: "string", short: "a", default: defaults.address },
      namespace: { type: "string", short: "n", default: defaults.namespace },
      timeout: { type: "string" },
      detailed: { type: "boolean", short: "d" },
      version: { type: "boolean", short: "v" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.version) {
    io.out(`berth ${BERTH_VERSION}\n`);
    return 0;
  }
  if (values.help || positionals.length === 0) {
    io.out(USAGE);
    return values.help ? 0 : 1;
  }
  const timeoutMs = values.timeout ? Number(values.timeout) : undefined;
  const client = createClient({ address: values.address, namespace: values.namespace, ...(timeoutMs ? { timeoutMs } : {}) });
  try {
    const [command, ...rest] = positionals;
    switch (command) {
      case "version":
        await versionCommand(client, io.out);
        return 0;
      case "plugins":
      case "plugin": {
        const [sub, ...filters] = rest;
        if (sub !== "ls" && sub !== "list") throw new UsageError(`unknown plugins command "${sub ?? ""}"`);
        await pluginsListCommand(client, filters, values.detailed ?? false, io.out);
        return 0;
      }
      case "events":
      case "event":
        await eventsCommand(client, rest, io.signal, io.out);
        return 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } finally {
    client.close();
  }
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}
