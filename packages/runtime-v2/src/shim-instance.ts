import { isUnavailable, notImplemented, type Logger } from "@berth/core";
import { createTtrpcClient, type TtrpcClient } from "@berth/ttrpc";
import type { Bundle } from "./bundle.js";
import type { ShimAddress } from "./shim-address.js";
import type { ShimInvocation } from "./shim-command.js";
import type { ShimLog } from "./shim-log.js";
import { taskServiceFor, type TaskService } from "./task-api.js";

/**
 * One connected shim serving one task: the bundle, how the shim binary is invoked (for its
 * `delete` command once the server is gone), and the ttrpc client. Closing it only closes the
 * connection: the shim, and the container, live on.
 */
export class ShimInstance {
  readonly bundle: Bundle;
  /** The runtime name or path the task was created with. */
  readonly runtime: string;
  readonly invocation: ShimInvocation;
  readonly address: ShimAddress;
  readonly client: TtrpcClient<TaskService>;
  readonly log: ShimLog;
  /**
   * Whether clients may know of this shim's task (it was listed, or found in a bundle after a
   * restart): if the shim dies, its task's exit is then published on its behalf.
   */
  known = false;
  /**
   * The task's init pid as Create (or Start) reported it; 0 until then, or when a restore
   * gives the process only at Start. Saves asking the shim again (containerd keeps it too).
   */
  initPid = 0;
  #retired = false;
  #lost = false;

  constructor(parts: {
    bundle: Bundle;
    runtime: string;
    invocation: ShimInvocation;
    address: ShimAddress;
    log: ShimLog;
    logger: Logger;
    /** Runs once when the connection ends without close() having been called: the shim is gone. */
    onLost: (shim: ShimInstance) => void;
  }) {
    if (parts.address.protocol.toLowerCase() !== "ttrpc") {
      throw notImplemented(`shim ${parts.bundle.id} speaks ${parts.address.protocol}; Berth reaches shims over ttrpc only`);
    }
    this.bundle = parts.bundle;
    this.runtime = parts.runtime;
    this.invocation = parts.invocation;
    this.address = parts.address;
    this.log = parts.log;
    this.client = createTtrpcClient(parts.address.address, taskServiceFor(parts.address.version), { namespace: parts.bundle.namespace });
    void this.client.connection.closed.then((reason) => {
      if (this.#retired) return;
      this.#lost = true;
      parts.logger.info("shim disconnected", { id: this.id, namespace: this.namespace, reason: reason.message });
      parts.onLost(this);
    });
  }

  get id(): string {
    return this.bundle.id;
  }

  get namespace(): string {
    return this.bundle.namespace;
  }

  /** True once the shim's end of the connection went away. */
  get lost(): boolean {
    return this.#lost;
  }

  /** Whether `err` from a call means the shim is gone rather than that it refused. */
  isGone(err: unknown): boolean {
    return this.#lost || (isUnavailable(err) && !this.#retired);
  }

  /**
   * From now on the connection ending is expected (the daemon closes it, or asked the shim to
   * shut down) and is not reported as a lost shim.
   */
  retire(): void {
    if (!this.#lost) this.#retired = true;
  }

  /** Closes the log pipe and hands the connection over to the caller; the shim keeps running. */
  detach(): TtrpcClient<TaskService> {
    this.retire();
    this.log.close();
    return this.client;
  }

  /** Closes the connection and the log pipe; the shim keeps running. */
  async close(): Promise<void> {
    this.retire();
    this.log.close();
    await this.client.close();
  }
}
