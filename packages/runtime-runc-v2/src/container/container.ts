import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { alreadyExists, failedPrecondition, isNotFound, notFound, type Logger, type Mount } from "@berth/core";
import { mountAll, unmountAll } from "@berth/mount";
import { cgroupOfPid, type ContainerCgroup } from "../cgroups/cgroup-paths.js";
import type { Stdio } from "../io/stdio.js";
import type { Reaper } from "../process/reaper.js";
import type { AnyMessage } from "../runc/runc-options-any.js";
import { runtimeOf, writeRuncOptions, type RuncOptions } from "../runc/runc-options.js";
import { createRunc, readPidFile, runcFailureOf, type Runc } from "../runc/runc.js";
import { killAllOnInitExit, readBundleSpec } from "./bundle-spec.js";
import { checkpointContainer } from "./checkpoint.js";
import { prepareStdio, type PreparedStdio } from "./process-stdio.js";
import { ShimProcess } from "./shim-process.js";

export interface CreateContainerRequest {
  readonly id: string;
  readonly bundle: string;
  readonly rootfs: readonly Mount[];
  readonly stdio: Stdio;
  /** A checkpoint image to restore from at start instead of running the process afresh. */
  readonly checkpoint: string;
  readonly parentCheckpoint: string;
  readonly options: RuncOptions;
}

export interface ContainerDeps {
  readonly namespace: string;
  readonly reaper: Reaper;
  readonly log: Logger;
  /** A process's exit, to be published now (after its start event, and execs before the init). */
  readonly onExit: (container: Container, process: ShimProcess) => void;
}

/** The SIGKILL number on Linux, for killing what an init leaves behind. */
const SIGKILL = 9;
// When a container's init exits, its exec'd processes die with it (the PID namespace ends, or
// the shim kills them): their exits are published first. This bounds the wait for them.
const EXEC_EXIT_GRACE_MS = 2_000;

/**
 * One container: its init and exec'd processes, driven through runc. Methods enforce the
 * state rules of containerd's runc shim (what may be started, paused, deleted when) and raise
 * errdefs classes the daemon maps to gRPC codes.
 */
export class Container {
  readonly init: ShimProcess;
  readonly execs = new Map<string, ShimProcess>();
  readonly #reserved = new Set<string>();
  readonly #execSpecs = new Map<string, Record<string, unknown>>();
  #cgroup: ContainerCgroup | undefined;
  #initExitHeld: number | undefined;

  private constructor(
    readonly id: string,
    readonly bundle: string,
    readonly runc: Runc,
    readonly rootfs: string | undefined,
    readonly killAllOnExit: boolean,
    readonly restoreFrom: { readonly checkpoint: string; readonly parent: string } | undefined,
    readonly options: RuncOptions,
    readonly deps: ContainerDeps,
    stdio: Stdio,
  ) {
    this.init = new ShimProcess(id, "", stdio);
  }

  /** Mounts the rootfs and runs `runc create`; the init then waits for start. */
  static async create(request: CreateContainerRequest, deps: ContainerDeps): Promise<Container> {
    const { id, bundle, options } = request;
    await writeRuncOptions(bundle, options);
    const runtime = runtimeOf(options, deps.namespace);
    const runc = createRunc(deps.reaper, { ...runtime, logPath: join(bundle, "log.json"), systemdCgroup: options.systemdCgroup });
    let rootfs: string | undefined;
    if (request.rootfs.length > 0) {
      rootfs = join(bundle, "rootfs");
      await mkdir(rootfs, { mode: 0o711 }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "EEXIST") throw err;
      });
      await mountAll(request.rootfs, rootfs);
    }
    try {
      const spec = await readBundleSpec(bundle);
      const restoreFrom = request.checkpoint !== "" ? { checkpoint: request.checkpoint, parent: request.parentCheckpoint } : undefined;
      const container = new Container(id, bundle, runc, rootfs, killAllOnInitExit(spec), restoreFrom, options, deps, request.stdio);
      // A restored container comes to life at start (runc restore), as containerd's does.
      if (!restoreFrom) await container.#runInit();
      return container;
    } catch (err) {
      // Whatever runc made of it goes too (nothing, when create itself failed).
      await runc.delete(id, true).catch(() => {});
      if (rootfs) await unmountAll(rootfs, { detachOnBusy: true }).catch(() => {});
      throw err;
    }
  }

  get cgroup(): ContainerCgroup | undefined {
    return this.#cgroup;
  }

  async #runInit(): Promise<void> {
    const prepared = await this.#prepareStdio(this.init.stdio);
    const pidFile = join(this.bundle, "init.pid");
    await this.#launch(this.init, prepared, pidFile, () =>
      this.runc.create(this.id, this.bundle, {
        pidFile,
        ...(prepared.consoleSocket ? { consoleSocket: prepared.consoleSocket } : {}),
        noPivot: this.options.noPivotRoot,
        noNewKeyring: this.options.noNewKeyring,
        stdio: prepared.runcStdio,
      }),
    );
    this.#cgroup = cgroupOfPid(this.init.pid);
  }

  #prepareStdio(stdio: Stdio): Promise<PreparedStdio> {
    return prepareStdio(stdio, { containerId: this.id, namespace: this.deps.namespace }, this.deps.reaper);
  }

  /**
   * Runs the runc command that makes `process`, then learns its pid. Exits reaped while runc
   * ran are captured, since the process may exit before its pid file has been read.
   */
  async #launch(process: ShimProcess, prepared: PreparedStdio, pidFile: string, run: () => Promise<void>): Promise<void> {
    const capture = this.deps.reaper.capture();
    try {
      let ran = false;
      try {
        await run();
        ran = true;
        prepared.attach(process);
      } catch (err) {
        await prepared.abort();
        // runc made the process, but the shim cannot serve it (no terminal came): it goes.
        if (ran) await killLaunched(pidFile);
        throw err;
      }
      process.pid = await readPidFile(pidFile);
      const early = capture.take(process.pid);
      if (early) this.#exited(process, early.exitCode);
      else this.deps.reaper.watch(process.pid, (exit) => this.#exited(process, exit.exitCode));
    } finally {
      capture.close();
    }
  }

  /** Starts the init or an exec'd process; `announce` publishes its start before any exit of it. */
  async start(execId: string, announce: (process: ShimProcess) => void): Promise<ShimProcess> {
    const process = this.process(execId);
    if (process.status !== "created") throw failedPrecondition(`cannot start a ${process.status} process`);
    process.starting = true;
    try {
      if (execId !== "") await this.#startExec(process);
      else if (this.restoreFrom) await this.#restoreInit();
      else await this.runc.start(this.id);
      if (execId === "" && !this.#cgroup) this.#cgroup = cgroupOfPid(process.pid);
      if (process.status === "created") process.status = "running";
      announce(process);
    } catch (err) {
      if (execId !== "") process.setExited(255);
      throw err;
    } finally {
      process.starting = false;
      const held = process.heldExit;
      process.heldExit = undefined;
      if (held !== undefined) this.#exited(process, held);
    }
    return process;
  }

  async #startExec(process: ShimProcess): Promise<void> {
    const spec = this.#execSpecs.get(process.execId)!;
    const processPath = join(this.bundle, `.exec-${process.execId}.json`);
    const pidFile = join(this.bundle, `${process.execId}.pid`);
    await writeFile(processPath, JSON.stringify({ ...spec, terminal: process.stdio.terminal }), { mode: 0o600 });
    try {
      const prepared = await this.#prepareStdio(process.stdio);
      await this.#launch(process, prepared, pidFile, () =>
        this.runc.exec(this.id, {
          processPath,
          pidFile,
          ...(prepared.consoleSocket ? { consoleSocket: prepared.consoleSocket } : {}),
          stdio: prepared.runcStdio,
        }),
      );
    } finally {
      await rm(processPath, { force: true });
    }
  }

  async #restoreInit(): Promise<void> {
    const prepared = await this.#prepareStdio(this.init.stdio);
    const pidFile = join(this.bundle, "init.pid");
    const workPath = this.options.criuWorkPath || join(this.bundle, "work");
    await mkdir(workPath, { recursive: true });
    await this.#launch(this.init, prepared, pidFile, () =>
      this.runc.restore(this.id, {
        bundle: this.bundle,
        pidFile,
        imagePath: this.restoreFrom!.checkpoint,
        workPath,
        ...(this.restoreFrom!.parent ? { parentPath: this.restoreFrom!.parent } : {}),
        ...(prepared.consoleSocket ? { consoleSocket: prepared.consoleSocket } : {}),
        noPivot: this.options.noPivotRoot,
        stdio: prepared.runcStdio,
      }),
    );
  }

  /** A process by exec id ("" is the init). */
  process(execId: string): ShimProcess {
    if (execId === "") return this.init;
    const process = this.execs.get(execId);
    if (!process) throw notFound(`process ${execId} does not exist`);
    return process;
  }

  /** Registers an exec'd process (runc runs it at start). */
  exec(execId: string, stdio: Stdio, spec: Record<string, unknown>): ShimProcess {
    if (this.execs.has(execId) || this.#reserved.has(execId)) throw alreadyExists(`id ${execId}`);
    const status = this.init.status;
    if (status !== "created" && status !== "running") throw failedPrecondition(`cannot exec in a ${status} state`);
    const process = new ShimProcess(this.id, execId, stdio);
    this.execs.set(execId, process);
    this.#execSpecs.set(execId, spec);
    return process;
  }

  async kill(execId: string, signal: number, all: boolean): Promise<void> {
    const process = this.process(execId);
    if (execId === "") {
      try {
        await this.runc.kill(this.id, signal, all);
      } catch (err) {
        const text = `${runcFailureOf(err)?.output ?? ""} ${runcFailureOf(err)?.runtimeMessage ?? ""}`.toLowerCase();
        if (text.includes("not running") || text.includes("no such process")) throw notFound("process already finished", err);
        if (text.includes("does not exist")) throw notFound("no such container", err);
        throw err;
      }
      return;
    }
    if (process.pid === 0) throw failedPrecondition("process not created");
    if (process.hasExited) throw notFound("process already finished");
    try {
      globalThis.process.kill(process.pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ESRCH") throw notFound("process already finished", err);
      throw err;
    }
  }

  /** Deletes a process: for the init, the whole container (runc delete, rootfs unmounted). */
  async delete(execId: string): Promise<ShimProcess> {
    const process = this.process(execId);
    if (process.status === "running" || process.status === "paused" || process.status === "pausing") {
      throw failedPrecondition(`cannot delete a ${process.status} process`);
    }
    if (execId !== "") {
      await process.releaseIo();
      await rm(join(this.bundle, `${execId}.pid`), { force: true });
      this.execs.delete(execId);
      this.#execSpecs.delete(execId);
      process.markDeleted();
      return process;
    }
    // An init that never ran dies with the runtime's delete: that is no exit to report.
    const neverRan = process.pid !== 0 && !process.hasExited;
    if (neverRan) this.deps.reaper.unwatch(process.pid);
    await process.releaseIo();
    try {
      await this.runc.delete(this.id, false);
    } catch (err) {
      // A checkpoint with exit, or a runtime that lost its state: nothing left to delete.
      if (!isNotFound(err)) {
        if (neverRan) this.deps.reaper.watch(process.pid, (exit) => this.#exited(process, exit.exitCode));
        throw err;
      }
    }
    for (const exec of this.execs.values()) await exec.releaseIo();
    if (this.rootfs) await unmountAll(this.rootfs, { detachOnBusy: true });
    process.markDeleted();
    return process;
  }

  async pause(): Promise<void> {
    if (this.init.status !== "running") throw failedPrecondition(`cannot pause a ${this.init.status} container`);
    this.init.status = "pausing";
    try {
      await this.runc.pause(this.id);
      if (this.init.status === "pausing") this.init.status = "paused";
    } catch (err) {
      if (this.init.status === "pausing") this.init.status = "running";
      throw err;
    }
  }

  async resume(): Promise<void> {
    if (this.init.status !== "paused") throw failedPrecondition(`cannot resume a ${this.init.status} container`);
    await this.runc.resume(this.id);
    if (this.init.status === "paused") this.init.status = "running";
  }

  async pids(): Promise<number[]> {
    return this.runc.ps(this.id);
  }

  async update(resources: AnyMessage | undefined): Promise<void> {
    if (this.init.hasExited) throw failedPrecondition("cannot update a stopped container");
    if (!resources) return;
    await this.runc.update(this.id, resources.value);
  }

  async checkpoint(imagePath: string, options: AnyMessage | undefined): Promise<void> {
    const status = this.init.status;
    if (status !== "running" && status !== "paused") throw failedPrecondition(`cannot checkpoint a ${status} container`);
    await checkpointContainer(this.runc, {
      id: this.id,
      bundle: this.bundle,
      imagePath,
      options,
      defaultWorkPath: join(this.options.criuWorkPath || join(this.bundle, "work"), "criu-work"),
    });
  }

  /** A reaped exit of one of this container's processes. */
  #exited(process: ShimProcess, status: number): void {
    if (process.hasExited || process.status === "deleted") return;
    if (process.starting) {
      process.heldExit = status;
      return;
    }
    if (process.execId !== "") {
      process.setExited(status);
      this.deps.onExit(this, process);
      this.#releaseHeldInitExit();
      return;
    }
    void this.#initExited(status);
  }

  async #initExited(status: number): Promise<void> {
    const wasPaused = this.init.status === "paused" || this.init.status === "pausing";
    if (this.killAllOnExit) {
      await this.runc.kill(this.id, SIGKILL, true).catch((err: unknown) => this.deps.log.debug("kill --all after init exit", { id: this.id, error: err }));
    }
    // A frozen cgroup keeps its processes from dying: thaw it (containerd does the same).
    if (wasPaused) await this.runc.resume(this.id).catch(() => {});
    this.#initExitHeld = status;
    if (this.#runningExecs() === 0) this.#releaseHeldInitExit();
    else setTimeout(() => this.#releaseHeldInitExit(true), EXEC_EXIT_GRACE_MS).unref();
  }

  #runningExecs(): number {
    let running = 0;
    for (const exec of this.execs.values()) if (exec.pid !== 0 && !exec.hasExited) running++;
    return running;
  }

  #releaseHeldInitExit(force = false): void {
    const status = this.#initExitHeld;
    if (status === undefined || (!force && this.#runningExecs() > 0)) return;
    this.#initExitHeld = undefined;
    if (this.init.hasExited || this.init.status === "deleted") return;
    this.init.setExited(status);
    this.deps.onExit(this, this.init);
  }
}

async function killLaunched(pidFile: string): Promise<void> {
  try {
    process.kill(await readPidFile(pidFile), SIGKILL);
  } catch {
    // no pid file, or already gone
  }
}
