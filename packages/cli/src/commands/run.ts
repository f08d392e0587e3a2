import type { BerthClient } from "@berth/client";
import { DEFAULT_RUNTIME, DEFAULT_SNAPSHOTTER } from "@berth/client";
import { startAttached, streamsFor } from "../attach.js";
import type { CliIo } from "../cli-io.js";
import { parseLeadingOptions } from "../command-args.js";
import { UsageError } from "../usage-error.js";
import { CONTAINER_OPTIONS, newContainerOptions } from "./container-options.js";

export const RUN_USAGE = `Usage: berth run [options] IMAGE ID [COMMAND] [ARG…]

Runs a container from an unpacked image and waits for it, exiting with its exit code.

Options:
  --rm                  remove the container (and its snapshot) after it exits
  -t, --tty             give it a terminal (berth's own, in raw mode; resized with it)
  -d, --detach          start it and return
  --runtime NAME        runtime name or shim path (default ${DEFAULT_RUNTIME}; Berth's: io.containerd.berth.v2)
  --snapshotter NAME    snapshotter holding the unpacked image (default ${DEFAULT_SNAPSHOTTER})
  --env K=V             environment variable (repeatable)
  --cwd DIR             working directory
  -u, --user USER       user[:group] or uid[:gid], looked up in the image
  --hostname NAME       hostname inside the container
  --label K=V           container label, also a spec annotation (repeatable)
  --seccomp             apply containerd's default seccomp profile
  --null-io             send all IO to /dev/null
  --fifo-dir DIR        directory for the IO FIFOs (default /run/berth/fifo)
`;

const OPTIONS = {
  rm: { type: "boolean" },
  ...CONTAINER_OPTIONS,
  detach: { type: "boolean", short: "d" },
  "null-io": { type: "boolean" },
  "fifo-dir": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** `berth run`: ctr run — create a container and its task, start it, wait, clean up. */
export async function runCommand(client: BerthClient, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseLeadingOptions(args, OPTIONS);
  if (values.help) {
    io.out(RUN_USAGE);
    return 0;
  }
  const [image, id, ...command] = positionals;
  if (!image) throw new UsageError(`image ref must be provided\n${RUN_USAGE}`);
  if (!id) throw new UsageError(`container id must be provided\n${RUN_USAGE}`);
  const rm = values.rm ?? false;
  const detach = values.detach ?? false;
  const tty = values.tty ?? false;
  if (rm && detach) throw new UsageError("flags --detach and --rm cannot be specified together");
  const mode = { tty, detach, nullIo: values["null-io"] ?? false, fifoDir: values["fifo-dir"] };
  // Checked before anything is created: a wrong combination leaves nothing behind.
  const streams = streamsFor(io, mode);

  const container = await client.newContainer(id, { ...newContainerOptions(image, command, values), signal: io.signal });
  let restoreTerminal: (() => void) | undefined;
  try {
    if (tty) restoreTerminal = io.terminal?.setRaw();
    const task = await container.newTask(streams);
    return await startAttached(task, io, mode);
  } finally {
    restoreTerminal?.();
    if (rm) {
      await container.delete({ snapshotCleanup: true }).catch((err: unknown) => io.err(`berth: failed to remove container ${id}: ${String(err)}\n`));
    }
  }
}
