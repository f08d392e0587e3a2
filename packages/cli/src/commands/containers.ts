import type { BerthClient, ContainerRecord } from "@berth/client";
import { isNotFound } from "@berth/core";
import type { CliIo } from "../cli-io.js";
import { parseLeadingOptions } from "../command-args.js";
import { formatTable } from "../table.js";
import { UsageError } from "../usage-error.js";
import { CONTAINER_OPTIONS, newContainerOptions } from "./container-options.js";

const USAGE = `Usage: berth containers COMMAND [options] [args]   (alias: container, c)

Commands:
  ls [-q] [FILTER…]                      list containers: CONTAINER IMAGE RUNTIME (alias: list)
  info [--spec] ID                       a container's record as JSON (--spec: only its runtime spec)
  create [run's options] IMAGE ID [CMD…] create a container without starting it
  rm [--keep-snapshot] ID…               delete containers (and their stopped tasks and snapshots)
                                         (alias: delete, del, remove)
`;

/** `berth containers …` (alias `container`, `c`), after ctr's container commands. */
export async function containersCommand(client: BerthClient, args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case "ls":
    case "list":
      return list(client, rest, io);
    case "info":
      return info(client, rest, io);
    case "create":
      return create(client, rest, io);
    case "rm":
    case "delete":
    case "del":
    case "remove":
      return remove(client, rest, io);
    default:
      throw new UsageError(sub === undefined ? USAGE : `unknown containers command "${sub}"\n${USAGE}`);
  }
}

async function list(client: BerthClient, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseLeadingOptions(args, { quiet: { type: "boolean", short: "q" } });
  const containers = await client.listContainers(positionals);
  if (values.quiet) {
    io.out(containers.map((c) => `${c.id}\n`).join(""));
    return 0;
  }
  io.out(formatTable(["CONTAINER", "IMAGE", "RUNTIME"], containers.map((c) => [c.id, c.image || "-", c.runtime.name])));
  return 0;
}

async function info(client: BerthClient, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseLeadingOptions(args, { spec: { type: "boolean" } });
  const [id, ...extra] = positionals;
  if (!id || extra.length > 0) throw new UsageError("containers info takes one container id");
  const record = await (await client.loadContainer(id)).info();
  io.out(`${JSON.stringify(values.spec ? record.spec : infoView(record), jsonReplacer, 4)}\n`);
  return 0;
}

/** The record with ctr's field names (Go's), the spec inline and Any values as type URL and base64. */
function infoView(c: ContainerRecord): Record<string, unknown> {
  const any = (a: { typeUrl: string; value: Uint8Array } | undefined) =>
    a ? { type_url: a.typeUrl, ...(a.value.byteLength ? { value: Buffer.from(a.value).toString("base64") } : {}) } : null;
  const extensions = Object.fromEntries(Object.entries(c.extensions).map(([k, v]) => [k, any(v)]));
  return {
    ID: c.id,
    Labels: c.labels,
    Image: c.image,
    Runtime: { Name: c.runtime.name, Options: any(c.runtime.options) },
    SnapshotKey: c.snapshotKey,
    Snapshotter: c.snapshotter,
    CreatedAt: c.createdAt?.toISOString() ?? null,
    UpdatedAt: c.updatedAt?.toISOString() ?? null,
    Extensions: Object.keys(extensions).length ? extensions : null,
    Sandbox: c.sandbox,
    Spec: c.spec ?? null,
  };
}

const jsonReplacer = (_key: string, value: unknown) =>
  typeof value === "bigint" ? (JSON as unknown as { rawJSON(t: string): unknown }).rawJSON(value.toString()) : value;

async function create(client: BerthClient, args: string[], _io: CliIo): Promise<number> {
  const { values, positionals } = parseLeadingOptions(args, CONTAINER_OPTIONS);
  const [image, id, ...command] = positionals;
  if (!image) throw new UsageError("image ref must be provided");
  if (!id) throw new UsageError("container id must be provided");
  await client.newContainer(id, newContainerOptions(image, command, values));
  return 0;
}

/**
 * As ctr: a container whose task has stopped loses the task first; one whose task still runs
 * is refused; the snapshot goes too unless --keep-snapshot.
 */
async function remove(client: BerthClient, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseLeadingOptions(args, { "keep-snapshot": { type: "boolean" } });
  if (positionals.length === 0) throw new UsageError("containers rm: container id must be provided");
  let failure: unknown;
  for (const id of positionals) {
    try {
      const container = await client.loadContainer(id);
      const task = await container.task().catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
      if (task) {
        const { status } = await task.state();
        if (status !== "stopped" && status !== "created") throw new Error(`cannot delete a non stopped container: ${status}`);
        await task.delete();
      }
      await container.delete({ snapshotCleanup: !(values["keep-snapshot"] ?? false) });
    } catch (err) {
      failure ??= err;
      io.err(`berth: failed to delete container ${id}: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  if (failure !== undefined) throw failure;
  return 0;
}
