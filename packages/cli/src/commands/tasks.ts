import type { BerthClient, CgroupMetrics, TaskMetrics } from "@berth/client";
import { STOP_SIGNAL_LABEL } from "@berth/client";
import { startAttached, streamsFor } from "../attach.js";
import type { CliIo } from "../cli-io.js";
import { parseLeadingOptions } from "../command-args.js";
import { parseSignal } from "../signals.js";
import { formatTable } from "../table.js";
import { UsageError } from "../usage-error.js";

const USAGE = `Usage: berth tasks COMMAND [options] [args]   (alias: task, t)

Commands:
  ls [-q]                                      list tasks: TASK PID STATUS (alias: list)
  ps ID                                        processes of a task
  start [-d] [--null-io] [--fifo-dir DIR] ID   start a created container's task and wait for it
  exec --exec-id X [-t] [-d] [--cwd DIR] [--user U] [--env K=V] ID CMD [ARG…]
                                               run another process in the task
  kill [-s SIG] [-a] [--exec-id X] ID          signal a task (default: its stop signal, else SIGTERM)
  pause ID / resume ID                         freeze and thaw a task
  metrics [--format table|json] ID             one sample of the task's cgroup statistics (alias: metric)
  rm [-f] [--exec-id X] ID…                    delete stopped tasks (alias: delete, del, remove)
  checkpoint [--exit] [--image-path P] [--work-path P] ID
                                               checkpoint a task into an image (needs a working criu)
`;

/** `berth tasks …` (alias `task`, `t`), after ctr's task commands. */
export async function tasksCommand(client: BerthClient, args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case "ls":
    case "list":
      return list(client, rest, io);
    case "ps":
      return ps(client, rest, io);
    case "start":
      return start(client, rest, io);
    case "exec":
      return exec(client, rest, io);
    case "kill":
      return kill(client, rest, io);
    case "pause":
      return (await oneTask(client, rest, "pause")).pause().then(() => 0);
    case "resume":
      return (await oneTask(client, rest, "resume")).resume().then(() => 0);
    case "metrics":
    case "metric":
      return metrics(client, rest, io);
    case "rm":
    case "delete":
    case "del":
    case "remove":
      return remove(client, rest, io);
    case "checkpoint":
      return checkpoint(client, rest, io);
    default:
      throw new UsageError(sub === undefined ? USAGE : `unknown tasks command "${sub}"\n${USAGE}`);
  }
}

function onlyId(args: readonly string[], what: string): string {
  const [id, ...extra] = args;
  if (!id) throw new UsageError(`tasks ${what}: container id must be provided`);
  if (extra.length > 0) throw new UsageError(`tasks ${what} takes one container id`);
  return id;
}

async function oneTask(client: BerthClient, args: readonly string[], what: string) {
  const { positionals } = parseLeadingOptions(args, {});
  const container = await client.loadContainer(onlyId(positionals, what));
  return container.task();
}

async function list(client: BerthClient, args: string[], io: CliIo): Promise<number> {
  const { values } = parseLeadingOptions(args, { quiet: { type: "boolean", short: "q" } });
  const tasks = await client.listTasks();
  if (values.quiet) {
    io.out(tasks.map((t) => `${t.id}\n`).join(""));
    return 0;
  }
  io.out(formatTable(["TASK", "PID", "STATUS"], tasks.map((t) => [t.id, String(t.pid), t.status.toUpperCase()])));
  return 0;
}

async function ps(client: BerthClient, args: string[], io: CliIo): Promise<number> {
  const task = await oneTask(client, args, "ps");
  const pids = await task.pids();
  io.out(formatTable(["PID", "INFO"], pids.map((p) => [String(p.pid), p.execId === undefined ? "-" : `exec_id:${JSON.stringify(p.execId)}`])));
  return 0;
}

async function start(client: BerthClient, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseLeadingOptions(args, {
    detach: { type: "boolean", short: "d" },
    "null-io": { type: "boolean" },
    "fifo-dir": { type: "string" },
  });
  const container = await client.loadContainer(onlyId(positionals, "start"));
  const spec = await container.spec();
  const mode = { tty: spec.process?.terminal ?? false, detach: values.detach ?? false, nullIo: values["null-io"] ?? false, fifoDir: values["fifo-dir"] };
  const streams = streamsFor(io, mode);
  const restore = mode.tty ? io.terminal?.setRaw() : undefined;
  try {
    const task = await container.newTask(streams);
    return await startAttached(task, io, mode);
  } finally {
    restore?.();
  }
}

async function exec(client: BerthClient, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseLeadingOptions(args, {
    "exec-id": { type: "string" },
    tty: { type: "boolean", short: "t" },
    detach: { type: "boolean", short: "d" },
    cwd: { type: "string" },
    user: { type: "string", short: "u" },
    env: { type: "string", multiple: true },
    "fifo-dir": { type: "string" },
  });
  const execId = values["exec-id"];
  if (!execId) throw new UsageError("tasks exec: --exec-id is required");
  const [id, ...command] = positionals;
  if (!id) throw new UsageError("tasks exec: container id must be provided");
  if (command.length === 0) throw new UsageError("tasks exec: a command must be provided");
  const mode = { tty: values.tty ?? false, detach: values.detach ?? false, nullIo: false, fifoDir: values["fifo-dir"] };
  const streams = streamsFor(io, mode);
  const container = await client.loadContainer(id);
  const spec = await container.execSpec({ args: command, tty: mode.tty, cwd: values.cwd, user: values.user, env: values.env });
  const task = await container.task();
  const restore = mode.tty ? io.terminal?.setRaw() : undefined;
  try {
    const proc = await task.exec(execId, spec, streams);
    return await startAttached(proc, io, mode);
  } finally {
    restore?.();
  }
}

async function kill(client: BerthClient, args: string[], _io: CliIo): Promise<number> {
  const { values, positionals } = parseLeadingOptions(args, {
    signal: { type: "string", short: "s" },
    all: { type: "boolean", short: "a" },
    "exec-id": { type: "string" },
  });
  const id = onlyId(positionals, "kill");
  const execId = values["exec-id"];
  if (values.all && execId) throw new UsageError("specify an exec-id or all; not both");
  const container = await client.loadContainer(id);
  const signal = parseSignal(values.signal ?? (await container.info()).labels[STOP_SIGNAL_LABEL] ?? "SIGTERM");
  const task = await container.task();
  if (execId) await (await task.loadProcess(execId)).kill(signal);
  else await task.kill(signal, { all: values.all ?? false });
  return 0;
}

async function remove(client: BerthClient, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseLeadingOptions(args, { force: { type: "boolean", short: "f" }, "exec-id": { type: "string" } });
  if (positionals.length === 0) throw new UsageError("tasks rm: container id must be provided");
  const force = values.force ?? false;
  const execId = values["exec-id"];
  if (execId) {
    const task = await (await client.loadContainer(onlyId(positionals, "rm --exec-id"))).task();
    const status = await (await task.loadProcess(execId)).delete({ force });
    return status.code;
  }
  let failure: unknown;
  for (const id of positionals) {
    try {
      const status = await (await (await client.loadContainer(id)).task()).delete({ force });
      if (status.code !== 0) io.err(`berth: task ${id} exit with non-zero exit code ${status.code}\n`);
    } catch (err) {
      failure ??= err;
      io.err(`berth: unable to delete ${id}: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  if (failure !== undefined) throw failure;
  return 0;
}

async function metrics(client: BerthClient, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseLeadingOptions(args, { format: { type: "string" } });
  const format = values.format ?? "table";
  if (format !== "table" && format !== "json") throw new UsageError("format must be table or json");
  const task = await (await client.loadContainer(onlyId(positionals, "metrics"))).task();
  const m = await task.metrics();
  if (!m.data) throw new Error(`cannot show metrics of type ${m.typeUrl || "(none)"}: not cgroups v1 or v2 metrics`);
  io.out(format === "json" ? `${JSON.stringify(m.data, (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v), 2)}\n` : metricsTable(m, m.data));
  return 0;
}

/** ctr's layout: the sample's ID and time, a blank line, then METRIC/VALUE rows. */
function metricsTable(m: TaskMetrics, data: CgroupMetrics): string {
  const rows: [string, string][] = [];
  const add = (name: string, v: bigint | readonly bigint[]) => rows.push([name, typeof v === "bigint" ? v.toString() : `[${v.join(" ")}]`]);
  if (data.version === 1) {
    if (data.memory) {
      add("memory.usage_in_bytes", data.memory.usage);
      add("memory.limit_in_bytes", data.memory.limit);
      add("memory.stat.cache", data.memory.totalCache);
    }
    if (data.cpu) {
      add("cpuacct.usage", data.cpu.total);
      add("cpuacct.usage_percpu", data.cpu.perCpu);
    }
    if (data.pids) {
      add("pids.current", data.pids.current);
      add("pids.limit", data.pids.limit);
    }
  } else {
    if (data.pids) {
      add("pids.current", data.pids.current);
      add("pids.limit", data.pids.limit);
    }
    if (data.cpu) {
      add("cpu.usage_usec", data.cpu.usageUsec);
      add("cpu.user_usec", data.cpu.userUsec);
      add("cpu.system_usec", data.cpu.systemUsec);
      add("cpu.nr_periods", data.cpu.nrPeriods);
      add("cpu.nr_throttled", data.cpu.nrThrottled);
      add("cpu.throttled_usec", data.cpu.throttledUsec);
    }
    if (data.memory) {
      add("memory.usage", data.memory.usage);
      add("memory.usage_limit", data.memory.usageLimit);
      add("memory.swap_usage", data.memory.swapUsage);
      add("memory.swap_limit", data.memory.swapLimit);
    }
  }
  const when = m.timestamp ? m.timestamp.toISOString() : "-";
  return `${formatTable(["ID", "TIMESTAMP"], [[m.id, when]])}\n${formatTable(["METRIC", "VALUE"], rows)}`;
}

async function checkpoint(client: BerthClient, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseLeadingOptions(args, {
    exit: { type: "boolean" },
    "image-path": { type: "string" },
    "work-path": { type: "string" },
  });
  const task = await (await client.loadContainer(onlyId(positionals, "checkpoint"))).task();
  const image = await task.checkpoint({ exit: values.exit ?? false, imagePath: values["image-path"], workPath: values["work-path"] });
  if (!values["image-path"]) io.out(`${image}\n`);
  return 0;
}

