import { parseArgs } from "node:util";
import { createClient } from "@berth/client";
import { BERTH_VERSION } from "@berth/core";
import type { CliIo } from "./cli-io.js";
import { eventsCommand } from "./commands/events.js";
import { containersCommand } from "./commands/containers.js";
import { imagesCommand } from "./commands/images.js";
import { pluginsListCommand } from "./commands/plugins.js";
import { pluginsRegisterCommand, pluginsRegisteredCommand, pluginsUnregisterCommand } from "./commands/plugins-register.js";
import { runCommand } from "./commands/run.js";
import { tasksCommand } from "./commands/tasks.js";
import { versionCommand } from "./commands/version.js";
import { parseGlobalOptions } from "./global-options.js";
import { UsageError } from "./usage-error.js";

export type { CliIo } from "./cli-io.js";
export { UsageError } from "./usage-error.js";

const USAGE = `berth: command-line client for Berth (and containerd), in the manner of ctr

Usage: berth [global options] COMMAND [options] [args]

Commands:
  version                      client and server versions
  plugins ls [-d] [FILTER…]    plugins with their status (alias: plugins list, plugin ls)
  plugins register --type snapshot --id NAME --address SOCK [--persist]
                               a proxy plugin joins the running daemon (unregister --id NAME;
                               registered lists them)
  events [FILTER…]             print events as they happen (alias: event)
  images pull|push|import|export|check|ls|rm|tag …
                               manage images (alias: image, i); "berth images" for details
  run [options] IMAGE ID [CMD…]
                               run a container and wait for it; "berth run --help" for options
  tasks ls|ps|start|exec|kill|pause|resume|metrics|rm|checkpoint …
                               manage tasks (alias: task, t); "berth tasks" for details
  containers ls|info|create|rm …
                               manage containers (alias: container, c); "berth containers"

Global options:
  -a, --address PATH     daemon socket (env CONTAINERD_ADDRESS; default /run/berth/berthd.sock)
  -n, --namespace NAME   namespace (env CONTAINERD_NAMESPACE; default "default")
      --timeout MS       deadline for each call
  -v, --version          print the client version
  -h, --help             print this help
`;

/** Runs the CLI with `argv` (no node/script prefix); returns the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const { global, command: commandLine } = parseGlobalOptions(argv, io.env);
  if (global.version) {
    io.out(`berth ${BERTH_VERSION}\n`);
    return 0;
  }
  if (global.help || commandLine.length === 0) {
    io.out(USAGE);
    return global.help ? 0 : 1;
  }
  const client = createClient({ address: global.address, namespace: global.namespace, ...(global.timeoutMs ? { timeoutMs: global.timeoutMs } : {}) });
  try {
    const [command, ...rest] = commandLine;
    switch (command) {
      case "version":
        await versionCommand(client, io.out);
        return 0;
      case "plugins":
      case "plugin": {
        if (rest[0] === "register") return await pluginsRegisterCommand(client, rest.slice(1)).then(() => 0);
        if (rest[0] === "unregister") return await pluginsUnregisterCommand(client, rest.slice(1)).then(() => 0);
        if (rest[0] === "registered") return await pluginsRegisteredCommand(client, io.out).then(() => 0);
        const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { detailed: { type: "boolean", short: "d" } } });
        const [sub, ...filters] = positionals;
        if (sub !== "ls" && sub !== "list") throw new UsageError(`unknown plugins command "${sub ?? ""}"`);
        await pluginsListCommand(client, filters, values.detailed ?? false, io.out);
        return 0;
      }
      case "events":
      case "event":
        await eventsCommand(client, rest, io.signal, io.out);
        return 0;
      case "images":
      case "image":
      case "i":
        return await imagesCommand(client, rest, io);
      case "run":
        return await runCommand(client, rest, io);
      case "tasks":
      case "task":
      case "t":
        return await tasksCommand(client, rest, io);
      case "containers":
      case "container":
      case "c":
        return await containersCommand(client, rest, io);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } finally {
    client.close();
  }
}
