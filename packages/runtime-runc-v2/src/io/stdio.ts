import { invalidArgument } from "@berth/core";

/** A process's stdio as the client asked for it: FIFO paths, or a log URI in `stdout`. */
export interface Stdio {
  readonly stdin: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly terminal: boolean;
}

/** Where a process's output goes, decided by the scheme of `stdout` as containerd decides it. */
export type StdioTarget =
  | { readonly kind: "null" }
  | { readonly kind: "fifo" }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "binary"; readonly path: string; readonly args: readonly string[] };

export function stdioTarget(stdio: Stdio): StdioTarget {
  if (stdio.stdin === "" && stdio.stdout === "" && stdio.stderr === "") return { kind: "null" };
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(stdio.stdout);
  const scheme = match?.[1]?.toLowerCase() ?? "";
  if (scheme === "" || scheme === "fifo") return { kind: "fifo" };
  let url: URL;
  try {
    url = new URL(stdio.stdout);
  } catch {
    throw invalidArgument(`unable to parse stdout uri ${JSON.stringify(stdio.stdout)}`);
  }
  const path = decodeURIComponent(url.pathname);
  switch (scheme) {
    case "file":
      return { kind: "file", path };
    case "binary": {
      // Each query key is an argument, followed by its first value when it has one.
      const args: string[] = [];
      const seen = new Set<string>();
      for (const [key, value] of url.searchParams) {
        if (seen.has(key)) continue;
        seen.add(key);
        args.push(key);
        if (value !== "") args.push(value);
      }
      return { kind: "binary", path, args };
    }
    default:
      throw invalidArgument(`unknown STDIO scheme ${scheme}`);
  }
}
