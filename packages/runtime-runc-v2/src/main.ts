import { parseShimFlags } from "./cli/shim-flags.js";

export const SHIM_VERSION = "0.1.0";

/**
 * The shim binary's entry: containerd runs it as `start` (print the address of a shim serving
 * the container), as `delete` (clean up after a dead shim) and, through `start`, with no action
 * as the long-running server. Each path loads only its own modules, so `start` — on the
 * critical path of every `ctr run` — stays quick.
 */
export async function runShim(argv: readonly string[], scriptPath: string): Promise<number> {
  let flags;
  try {
    flags = parseShimFlags(argv);
  } catch (err) {
    process.stderr.write(`containerd-shim-berth-v2: ${(err as Error).message}\n`);
    return 2;
  }
  if (flags.version) {
    process.stdout.write(`containerd-shim-berth-v2:\n  Version:  ${SHIM_VERSION}\n  Node version: ${process.version}\n\n`);
    return 0;
  }
  if (flags.namespace === "") {
    process.stderr.write("containerd-shim-berth-v2: shim namespace cannot be empty\n");
    return 1;
  }
  try {
    switch (flags.action) {
      case "start": {
        const { startShim } = await import("./start/start-shim.js");
        process.stdout.write(await startShim(flags, scriptPath));
        return 0;
      }
      case "delete": {
        const { deleteShim } = await import("./delete/delete-shim.js");
        process.stdout.write(await deleteShim(flags));
        return 0;
      }
      case "": {
        const { serveShim } = await import("./server/serve-shim.js");
        await serveShim(flags);
        return 0;
      }
      default:
        process.stderr.write(`containerd-shim-berth-v2: unknown action ${flags.action}\n`);
        return 1;
    }
  } catch (err) {
    process.stderr.write(`containerd-shim-berth-v2: ${(err as Error).message}\n`);
    return 1;
  }
}
