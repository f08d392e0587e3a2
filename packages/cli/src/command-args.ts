import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { UsageError } from "./usage-error.js";

/**
 * Parses a command's options up to its first positional argument, as ctr (urfave/cli) does:
 * everything from there on is arguments, so `berth run IMAGE ID sh -c 'exit 3'` hands `-c`
 * to the container rather than reading it as an option.
 */
export function parseLeadingOptions<O extends ParseArgsOptionsConfig>(args: readonly string[], options: O) {
  const takesValue = new Set<string>();
  for (const [name, o] of Object.entries(options)) {
    if (o.type !== "string") continue;
    takesValue.add(`--${name}`);
    if (o.short) takesValue.add(`-${o.short}`);
  }
  let i = 0;
  while (i < args.length) {
    const arg = args[i]!;
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    i += takesValue.has(arg) ? 2 : 1;
  }
  const optionArgs = args.slice(0, i).filter((a, n, all) => !(a === "--" && n === all.length - 1));
  try {
    const { values } = parseArgs({ args: optionArgs, options, strict: true, allowPositionals: false });
    return { values, positionals: args.slice(i) };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
