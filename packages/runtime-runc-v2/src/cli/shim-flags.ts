/**
 * The command line containerd gives every v2 shim, parsed as Go's flag package does:
 * `-namespace NS -address ADDR -publish-binary BIN -id ID [-bundle DIR] [-debug] ACTION`,
 * with `--flag`, `-flag=value` and `-flag value` alike, and parsing stops at the first
 * argument that is not a flag (the action).
 */
export interface ShimFlags {
  readonly namespace: string;
  readonly id: string;
  readonly address: string;
  readonly publishBinary: string;
  readonly bundle: string;
  readonly socket: string;
  readonly debug: boolean;
  readonly version: boolean;
  /** "start", "delete", or "" for the long-running server. */
  readonly action: string;
}

const STRING_FLAGS = { namespace: "namespace", id: "id", address: "address", "publish-binary": "publishBinary", bundle: "bundle", socket: "socket" } as const;
const BOOL_FLAGS = { debug: "debug", v: "version" } as const;

export function parseShimFlags(argv: readonly string[]): ShimFlags {
  const out: Record<string, string | boolean> = {
    namespace: "",
    id: "",
    address: "",
    publishBinary: "containerd",
    bundle: "",
    socket: "",
    debug: false,
    version: false,
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    const body = arg.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (name in BOOL_FLAGS) {
      const value = eq >= 0 ? body.slice(eq + 1) : "true";
      out[BOOL_FLAGS[name as keyof typeof BOOL_FLAGS]] = value === "true" || value === "1";
      continue;
    }
    if (!(name in STRING_FLAGS)) throw new Error(`flag provided but not defined: -${name}`);
    const value: string | undefined = eq >= 0 ? body.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new Error(`flag needs an argument: -${name}`);
    out[STRING_FLAGS[name as keyof typeof STRING_FLAGS]] = value;
  }
  return { ...(out as Omit<ShimFlags, "action">), action: argv[i] ?? "" };
}

/** The arguments that give the same flags back (to start the server with). */
export function shimFlagArgs(flags: ShimFlags): string[] {
  return [
    "-namespace", flags.namespace,
    "-id", flags.id,
    "-address", flags.address,
    "-publish-binary", flags.publishBinary,
    ...(flags.bundle ? ["-bundle", flags.bundle] : []),
    ...(flags.debug ? ["-debug"] : []),
  ];
}
