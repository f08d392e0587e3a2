// A PlatformRuntime in memory, for testing the tasks service's translation: processes have
// states the test sets, calls are recorded, and errors follow core's runtime contract.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  alreadyExists,
  failedPrecondition,
  notFound,
  type ConsoleSize,
  type CreateTaskOptions,
  type ExecOptions,
  type ExecProcess,
  type Exit,
  type OpContext,
  type PlatformRuntime,
  type ProcessInfo,
  type ProcessState,
  type RuntimeTask,
  type TypedValue,
} from "@berth/core";

export type Call = { readonly op: string; readonly id: string; readonly args?: unknown };

class MemoryProcess implements ExecProcess {
  state_: ProcessState;
  /** Thrown by state() when set: a process whose runtime misbehaves. */
  stateError: Error | undefined;
  exit: Exit = { pid: 0, status: 0, exitedAt: new Date(0) };

  constructor(
    readonly id: string,
    readonly calls: Call[],
    pid: number,
    io: CreateTaskOptions["io"],
    readonly onDelete: () => void,
  ) {
    this.state_ = { id, pid, status: "created", io, exitStatus: 0, exitedAt: undefined };
  }

  async state(): Promise<ProcessState> {
    if (this.stateError) throw this.stateError;
    return this.state_;
  }
  async kill(signal: number, all: boolean): Promise<void> {
    this.calls.push({ op: "kill", id: this.id, args: { signal, all } });
  }
  async resizePty(size: ConsoleSize): Promise<void> {
    this.calls.push({ op: "resizePty", id: this.id, args: size });
  }
  async closeIO(): Promise<void> {
    this.calls.push({ op: "closeIO", id: this.id });
  }
  async start(): Promise<void> {
    this.calls.push({ op: "start", id: this.id });
    this.state_ = { ...this.state_, status: "running" };
  }
  async wait(): Promise<Exit> {
    return this.exit;
  }
  async delete(): Promise<Exit> {
    this.calls.push({ op: "delete", id: this.id });
    this.onDelete();
    return this.exit;
  }
}

export class MemoryTask extends MemoryProcess implements RuntimeTask {
  readonly execs = new Map<string, MemoryProcess>();
  /** What checkpoint() writes into its directory; an Error makes it fail instead. */
  checkpointFiles: Record<string, string> | Error = { "inventory.img": "criu inventory" };
  statsValue: TypedValue | undefined | Error = { typeUrl: "io.containerd.cgroups.v1.Metrics", value: new Uint8Array([1]) };

  constructor(
    id: string,
    calls: Call[],
    pid: number,
    readonly namespace: string,
    readonly runtime: string,
    readonly created: CreateTaskOptions,
    onDelete: () => void,
  ) {
    super(id, calls, pid, created.io, onDelete);
  }

  async pid(): Promise<number> {
    return this.state_.pid;
  }
  async pause(): Promise<void> {
    this.calls.push({ op: "pause", id: this.id });
  }
  async resume(): Promise<void> {
    this.calls.push({ op: "resume", id: this.id });
  }
  async exec(id: string, opts: ExecOptions): Promise<ExecProcess> {
    if (this.execs.has(id)) throw alreadyExists(`id ${id}: already exists`);
    const exec = new MemoryProcess(id, this.calls, 1000 + this.execs.size, opts.io, () => this.execs.delete(id));
    this.execs.set(id, exec);
    this.calls.push({ op: "exec", id, args: opts });
    return exec;
  }
  async pids(): Promise<ProcessInfo[]> {
    return [{ pid: this.state_.pid }, { pid: 77, info: { typeUrl: "containerd.runc.v1.ProcessDetails", value: new Uint8Array([10, 1, 0x65]) } }];
  }
  async checkpoint(path: string, options: TypedValue | undefined): Promise<void> {
    this.calls.push({ op: "checkpoint", id: this.id, args: { path, options } });
    if (this.checkpointFiles instanceof Error) throw this.checkpointFiles;
    await mkdir(path, { recursive: true });
    for (const [name, text] of Object.entries(this.checkpointFiles)) await writeFile(join(path, name), text);
  }
  async update(resources: TypedValue | undefined, annotations: Readonly<Record<string, string>>): Promise<void> {
    this.calls.push({ op: "update", id: this.id, args: { resources, annotations } });
  }
  async process(execId: string): Promise<ExecProcess> {
    const exec = this.execs.get(execId);
    if (!exec) throw notFound(`process ${execId} does not exist`);
    return exec;
  }
  async stats(): Promise<TypedValue | undefined> {
    if (this.statsValue instanceof Error) throw this.statsValue;
    return this.statsValue;
  }
}

export class MemoryRuntime implements PlatformRuntime {
  readonly defaultRuntime = "io.containerd.runc.v2";
  readonly calls: Call[] = [];
  readonly #tasks = new Map<string, MemoryTask>();
  #nextPid = 100;

  task(namespace: string, id: string): MemoryTask {
    const t = this.#tasks.get(`${namespace}/${id}`);
    if (!t) throw notFound(`task ${id} not found`);
    return t;
  }

  async create(ctx: OpContext, id: string, opts: CreateTaskOptions): Promise<RuntimeTask> {
    const key = `${ctx.namespace}/${id}`;
    if (this.#tasks.has(key)) throw alreadyExists(`task ${id}: already exists`);
    const task = new MemoryTask(id, this.calls, this.#nextPid++, ctx.namespace, opts.runtime, opts, () => undefined);
    this.#tasks.set(key, task);
    this.calls.push({ op: "create", id, args: opts });
    return task;
  }
  async get(ctx: OpContext, id: string): Promise<RuntimeTask> {
    return this.task(ctx.namespace, id);
  }
  async tasks(ctx: OpContext, all: boolean): Promise<RuntimeTask[]> {
    return [...this.#tasks.values()].filter((t) => all || t.namespace === ctx.namespace);
  }
  async delete(ctx: OpContext, id: string): Promise<Exit> {
    const task = this.task(ctx.namespace, id);
    if (task.state_.status === "running") throw failedPrecondition(`task must be stopped before deletion: running`);
    this.#tasks.delete(`${ctx.namespace}/${id}`);
    this.calls.push({ op: "delete", id });
    return task.exit;
  }
}
