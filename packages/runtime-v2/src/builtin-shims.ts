import { chmod, mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BERTH_SHIM_BINARY } from "./berth-shim-groups.js";

/**
 * Makes Berth's own shim runnable by its binary name without installing it on PATH: a launcher
 * `<dir>/containerd-shim-berth-v2` that runs the shim package's script with this daemon's Node
 * (never whichever `node` PATH finds first). Returns the name → path map ShimResolver takes.
 */
export async function writeBuiltinShims(dir: string): Promise<Map<string, string>> {
  const script = join(dirname(fileURLToPath(import.meta.resolve("@berth/runtime-runc-v2"))), "bin", "shim.js");
  const launcher = join(dir, BERTH_SHIM_BINARY);
  await mkdir(dir, { recursive: true, mode: 0o711 });
  const temp = `${launcher}.tmp`;
  await writeFile(temp, `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(script)} "$@"\n`, { mode: 0o755 });
  await chmod(temp, 0o755);
  await rename(temp, launcher);
  return new Map([[BERTH_SHIM_BINARY, launcher]]);
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
