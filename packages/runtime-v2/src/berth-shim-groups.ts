import { basename } from "node:path";
import { DEFAULT_SOCKET_DIR, groupMode, shimGroup, shimSocketAddress } from "@berth/runtime-runc-v2";
import type { Logger, TypedValue } from "@berth/core";
import type { TtrpcClient } from "@berth/ttrpc";
import { shimEnvironment, type ShimInvocation } from "./shim-command.js";
import type { TaskService } from "./task-api.js";

/** Berth's own shim binary (runtime io.containerd.berth.v2). */
export const BERTH_SHIM_BINARY = "containerd-shim-berth-v2";

/**
 * How long berthd keeps a Berth group shim whose last container left, so that the group's next
 * container needs no new process. Shorter than the shim's own idle exit (60 s), so the daemon
 * never hands a container to a shim that is about to leave by itself.
 */
export const GROUP_LINGER_MS = 10_000;

/** Whether `binary` is Berth's own shim, whose grouping and start the manager may predict. */
export function isBerthShim(binary: string): boolean {
  return basename(binary) === BERTH_SHIM_BINARY;
}

/**
 * The socket Berth's shim would serve this task on: what its `start` prints, computed here
 * from the same rules (group annotations, BERTH_SHIM_GROUP, BERTH_SHIM_SOCKET_DIR in the
 * shim's environment). undefined when it cannot be predicted; `start` then decides.
 */
export function berthGroupAddress(inv: ShimInvocation, spec: TypedValue | undefined): string | undefined {
  const env = shimEnvironment(inv);
  let annotations: Record<string, string> | undefined;
  try {
    annotations = spec ? (JSON.parse(Buffer.from(spec.value).toString("utf8")) as { annotations?: Record<string, string> }).annotations : undefined;
    const group = shimGroup(inv.id, annotations, groupMode(env));
    return shimSocketAddress(inv.grpcAddress, inv.namespace, group, env["BERTH_SHIM_SOCKET_DIR"] || DEFAULT_SOCKET_DIR);
  } catch {
    return undefined; // a malformed spec or grouping: `start` reports it
  }
}

interface Parked {
  readonly client: TtrpcClient<TaskService>;
  readonly timer: NodeJS.Timeout;
}

/**
 * Berth group shims that serve no container right now, each kept with a connection for
 * GROUP_LINGER_MS, and the shutdowns under way of those whose time ran out. The manager asks
 * here before it reuses a group's socket or starts a shim for it.
 */
export class IdleGroupShims {
  readonly #parked = new Map<string, Parked>();
  readonly #closing = new Map<string, Promise<void>>();
  readonly #lingerMs: number;
  readonly #shutdownTimeoutMs: number;
  readonly #inUse: (address: string) => boolean;
  readonly #log: Logger;

  constructor(opts: {
    lingerMs: number;
    shutdownTimeoutMs: number;
    /** Whether a task runs on the shim at `address` again (one joined it while it was being parked). */
    inUse: (address: string) => boolean;
    log: Logger;
  }) {
    this.#lingerMs = opts.lingerMs;
    this.#shutdownTimeoutMs = opts.shutdownTimeoutMs;
    this.#inUse = opts.inUse;
    this.#log = opts.log;
  }

  /** Keeps the idle shim at `address`; after the linger time it is asked to shut down. */
  park(address: string, client: TtrpcClient<TaskService>, shimId: string): void {
    this.#drop(address);
    const timer = setTimeout(() => void this.#retire(address, shimId), this.#lingerMs);
    timer.unref();
    this.#parked.set(address, { client, timer });
    // A parked shim that dies is simply forgotten: it served no container.
    void client.connection.closed.then(() => {
      if (this.#parked.get(address)?.client === client) this.#drop(address);
    });
  }

  /** Takes the idle shim at `address` back into service: true if one was parked there. */
  take(address: string): boolean {
    const parked = this.#parked.get(address);
    if (!parked) return false;
    this.#drop(address);
    return true;
  }

  /** Resolves once no shutdown of the shim at `address` is under way (its socket is gone then). */
  async settled(address: string): Promise<void> {
    await this.#closing.get(address);
  }

  /** Shuts every parked shim down (they serve nothing); for a daemon that stops. */
  async close(): Promise<void> {
    await Promise.all([...this.#parked.keys()].map((address) => this.#retire(address, "")));
    await Promise.all(this.#closing.values());
  }

  #drop(address: string): void {
    const parked = this.#parked.get(address);
    if (!parked) return;
    this.#parked.delete(address);
    clearTimeout(parked.timer);
    void parked.client.close();
  }

  #retire(address: string, shimId: string): Promise<void> {
    const parked = this.#parked.get(address);
    if (!parked) return Promise.resolve();
    if (this.#inUse(address)) {
      this.#drop(address);
      return Promise.resolve();
    }
    this.#parked.delete(address);
    clearTimeout(parked.timer);
    const done = (async () => {
      try {
        // The shim exits before it answers: the call failing with the connection is success.
        await parked.client.shutdown({ id: shimId }, { signal: AbortSignal.timeout(this.#shutdownTimeoutMs) }).catch(() => undefined);
        // Shutdown returns before the process is gone; its connection closing is the exit.
        await Promise.race([parked.client.connection.closed, new Promise((resolve) => setTimeout(resolve, this.#shutdownTimeoutMs))]);
      } catch (err) {
        this.#log.warn("failed to shut an idle group shim down", { address, error: err });
      } finally {
        await parked.client.close();
        this.#closing.delete(address);
      }
    })();
    this.#closing.set(address, done);
    return done;
  }
}
