import { failedPrecondition } from "@berth/core";
import type { ProcessConsole } from "../io/console.js";
import type { ProcessIo } from "../io/process-io.js";
import type { Stdio } from "../io/stdio.js";

/** A process's life as containerd's task API reports it ("pausing" and "paused" are the init's). */
export type ProcessStatus = "created" | "running" | "pausing" | "paused" | "stopped" | "deleted";

/**
 * One process of a container — its init (execId "") or an exec'd one: pid, status, exit, and
 * the stdio the shim keeps for it.
 */
export class ShimProcess {
  pid = 0;
  status: ProcessStatus = "created";
  exitStatus = 0;
  exitedAt: Date | undefined;
  io: ProcessIo | undefined;
  console: ProcessConsole | undefined;
  /**
   * True while a start is in flight: an exit reaped meanwhile waits in `heldExit`, so that the
   * start event is always published before the exit event.
   */
  starting = false;
  heldExit: number | undefined;

  readonly #exited: Promise<void>;
  #resolveExited!: () => void;

  constructor(
    readonly containerId: string,
    readonly execId: string,
    readonly stdio: Stdio,
  ) {
    this.#exited = new Promise((resolve) => (this.#resolveExited = resolve));
  }

  /** The process id as containerd names it: the exec id, or the container id for the init. */
  get id(): string {
    return this.execId === "" ? this.containerId : this.execId;
  }

  get hasExited(): boolean {
    return this.exitedAt !== undefined;
  }

  /** Resolves once the process has exited (or was deleted without ever running). */
  wait(): Promise<void> {
    return this.#exited;
  }

  setExited(status: number): void {
    if (this.hasExited) return;
    this.exitStatus = status;
    this.exitedAt = new Date();
    if (this.status !== "deleted") this.status = "stopped";
    this.#resolveExited();
  }

  /** A process deleted before it ever ran still releases its waiters. */
  markDeleted(): void {
    this.status = "deleted";
    this.#resolveExited();
  }

  resize(width: number, height: number): void {
    if (this.hasExited) throw failedPrecondition("cannot resize a stopped process");
    this.console?.resize(width, height);
  }

  closeStdin(): void {
    this.io?.closeStdin();
    this.console?.closeStdin();
  }

  /** Lets the last output drain (briefly) and releases the process's stdio. */
  async releaseIo(): Promise<void> {
    const { io, console } = this;
    this.io = undefined;
    this.console = undefined;
    await Promise.all([io?.close(), console?.close()]);
  }
}
