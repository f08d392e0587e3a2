import { parseArgs } from "node:util";
import { DEFAULT_ADDRESS, DEFAULT_NAMESPACE, NAMESPACE_ENV } from "@berth/core";

/** Options every command takes, with containerd's environment variables as defaults. */
export interface GlobalOptions {
  address: string;
  namespace: string;
  timeoutMs: number | undefined;
  version: boolean;
  help: boolean;
}

export function globalDefaults(env: NodeJS.ProcessEnv): Pick<GlobalOptions, "address" | "namespace"> {
  return {
    address: env["CONTAINERD_ADDRESS"] || DEFAULT_ADDRESS,
    namespace: env[NAMESPACE_ENV] || DEFAULT_NAMESPACE,
  };
}

const GLOBAL_WITH_VALUE = new Set(["-a", "--address", "-n", "--namespace", "--timeout"]);

/**
 * Splits `berth [global options] COMMAND [command options] [args]` at the command, as ctr
 * does: global options go before it, each command parses the rest itself.
 */
export function parseGlobalOptions(argv: readonly string[], env: NodeJS.ProcessEnv): { global: GlobalOptions; command: string[] } {
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith("-")) {
    const arg = argv[i]!;
    i += GLOBAL_WITH_VALUE.has(arg) ? 2 : 1;
  }
  const defaults = globalDefaults(env);
  const { values } = parseArgs({
    args: argv.slice(0, i),
    strict: true,
    options: {
      address: { type: "string", short: "a", default: defaults.address },
      namespace: { type: "string", short: "n", default: defaults.namespace },
      timeout: { type: "string" },
      version: { type: "boolean", short: "v" },
      help: { type: "boolean", short: "h" },
    },
  });
  return {
    global: {
      address: values.address,
      namespace: values.namespace,
      timeoutMs: values.timeout ? Number(values.timeout) : undefined,
      version: values.version ?? false,
      help: values.help ?? false,
    },
    command: argv.slice(i),
  };
}
