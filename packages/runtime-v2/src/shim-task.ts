import {
  invalidArgument,
  isNotFound,
  notFound,
  validateIdentifier,
  type ConsoleSize,
  type ExecOptions,
  type ExecProcess,
  type Exit,
  type ProcessInfo,
  type ProcessState,
  type RuntimeTask,
  type TypedValue,
} from "@berth/core";
import { anyFromWire, anyToWire, exitFromWire, stateFromWire } from "./convert.js";
import type { ShimInstance } from "./shim-instance.js";

const opts = (signal: AbortSignal | undefined) => (signal ? { signal } : undefined);

/**
 * A task as its shim runs it (containerd's shimTask): each call is one containerd.task.v2
 * request for the task's ID. A shim that is gone answers State with NotFound, as in containerd.
 */
export class ShimTask implements RuntimeTask {
  readonly shim: ShimInstance;

  constructor(shim: ShimInstance) {
    this.shim = shim;
  }

  get id(): string {
    return this.shim.id;
  }

  get namespace(): string {
    return this.shim.namespace;
  }

  get runtime(): string {
    return this.shim.runtime;
  }

  async pid(signal?: AbortSignal): Promise<number> {
    if (this.shim.initPid > 0) return this.shim.initPid;
    const { taskPid } = await this.shim.client.connect({ id: this.id }, opts(signal));
    this.shim.initPid = taskPid;
    return taskPid;
  }

  async state(signal?: AbortSignal): Promise<ProcessState> {
    return stateOf(this.shim, this.id, "", signal);
  }

  async start(signal?: AbortSignal): Promise<void> {
    const { pid } = await this.shim.client.start({ id: this.id }, opts(signal));
    if (pid > 0) this.shim.initPid = pid;
  }

  async kill(signal: number, all: boolean, abort?: AbortSignal): Promise<void> {
    await this.shim.client.kill({ id: this.id, signal, all }, opts(abort));
  }

  async resizePty(size: ConsoleSize, signal?: AbortSignal): Promise<void> {
    await this.shim.client.resizePty({ id: this.id, width: size.width, height: size.height }, opts(signal));
  }

  async closeIO(signal?: AbortSignal): Promise<void> {
    await this.shim.client.closeIO({ id: this.id, stdin: true }, opts(signal));
  }

  async wait(signal?: AbortSignal): Promise<Exit> {
    const pid = await this.pid(signal);
    return exitFromWire(pid, await this.shim.client.wait({ id: this.id }, opts(signal)));
  }

  async pause(signal?: AbortSignal): Promise<void> {
    await this.shim.client.pause({ id: this.id }, opts(signal));
  }

  async resume(signal?: AbortSignal): Promise<void> {
    await this.shim.client.resume({ id: this.id }, opts(signal));
  }

  async exec(execId: string, options: ExecOptions, signal?: AbortSignal): Promise<ExecProcess> {
    try {
      validateIdentifier(execId);
    } catch (err) {
      throw invalidArgument(`invalid exec id ${execId}: ${(err as Error).message}`, err);
    }
    await this.shim.client.exec(
      {
        id: this.id,
        execId,
        terminal: options.io.terminal,
        stdin: options.io.stdin,
        stdout: options.io.stdout,
        stderr: options.io.stderr,
        spec: anyToWire(options.spec),
      },
      opts(signal),
    );
    return new ShimExec(this.shim, execId);
  }

  async pids(signal?: AbortSignal): Promise<ProcessInfo[]> {
    const { processes } = await this.shim.client.pids({ id: this.id }, opts(signal));
    return processes.map((p) => ({ pid: p.pid, info: anyFromWire(p.info) }));
  }

  async checkpoint(path: string, options: TypedValue | undefined, signal?: AbortSignal): Promise<void> {
    await this.shim.client.checkpoint({ id: this.id, path, options: anyToWire(options) }, opts(signal));
  }

  async update(resources: TypedValue | undefined, annotations: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<void> {
    await this.shim.client.update({ id: this.id, resources: anyToWire(resources), annotations: { ...annotations } }, opts(signal));
  }

  async process(execId: string, signal?: AbortSignal): Promise<ExecProcess> {
    const exec = new ShimExec(this.shim, execId);
    await exec.state(signal);
    return exec;
  }

  async stats(signal?: AbortSignal): Promise<TypedValue | undefined> {
    return anyFromWire((await this.shim.client.stats({ id: this.id }, opts(signal))).stats);
  }
}

/** An exec process of a task, addressed by task ID and exec ID on the task's shim. */
export class ShimExec implements ExecProcess {
  readonly #shim: ShimInstance;
  readonly id: string;

  constructor(shim: ShimInstance, execId: string) {
    this.#shim = shim;
    this.id = execId;
  }

  state(signal?: AbortSignal): Promise<ProcessState> {
    return stateOf(this.#shim, this.id, this.id, signal);
  }

  async start(signal?: AbortSignal): Promise<void> {
    await this.#shim.client.start({ id: this.#shim.id, execId: this.id }, opts(signal));
  }

  async kill(signal: number, _all: boolean, abort?: AbortSignal): Promise<void> {
    // `all` means every process of the task; for one exec it has no meaning (containerd drops it too).
    await this.#shim.client.kill({ id: this.#shim.id, execId: this.id, signal }, opts(abort));
  }

  async resizePty(size: ConsoleSize, signal?: AbortSignal): Promise<void> {
    await this.#shim.client.resizePty({ id: this.#shim.id, execId: this.id, width: size.width, height: size.height }, opts(signal));
  }

  async closeIO(signal?: AbortSignal): Promise<void> {
    await this.#shim.client.closeIO({ id: this.#shim.id, execId: this.id, stdin: true }, opts(signal));
  }

  async wait(signal?: AbortSignal): Promise<Exit> {
    return exitFromWire(0, await this.#shim.client.wait({ id: this.#shim.id, execId: this.id }, opts(signal)));
  }

  async delete(signal?: AbortSignal): Promise<Exit> {
    const r = await this.#shim.client.delete({ id: this.#shim.id, execId: this.id }, opts(signal));
    return exitFromWire(r.pid, r);
  }
}

async function stateOf(shim: ShimInstance, id: string, execId: string, signal: AbortSignal | undefined): Promise<ProcessState> {
  try {
    return stateFromWire(id, await shim.client.state({ id: shim.id, execId }, opts(signal)));
  } catch (err) {
    if (!isNotFound(err) && shim.isGone(err)) throw notFound(`task ${shim.id}: shim is gone`, err);
    throw err;
  }
}
