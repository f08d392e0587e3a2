import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { eventPayloads, packAny } from "@berth/api";
import {
  BerthError,
  classOf,
  isNotFound,
  TaskTopics,
  type ContainerStore,
  type CreateTaskOptions,
  type Exit,
  type Logger,
  type OpContext,
  type PlatformRuntime,
  type Publisher,
  type RuntimeTask,
} from "@berth/core";
import { berthGroupAddress, GROUP_LINGER_MS, IdleGroupShims, isBerthShim } from "./berth-shim-groups.js";
import { createBundle, deleteBundle, SHIM_BINARY_FILE, type Bundle, type BundleDirs } from "./bundle.js";
import { loadExistingShims, type LoadReport } from "./load-shims.js";
import { exitFromWire, mountToWire, anyToWire } from "./convert.js";
import { writeShimAddress, type ShimAddress } from "./shim-address.js";
import { runShimDelete, runShimStart, type ShimInvocation } from "./shim-command.js";
import { ShimInstance } from "./shim-instance.js";
import { openShimLog, type ShimLog } from "./shim-log.js";
import type { ShimResolver } from "./shim-binary-path.js";
import { ShimTask } from "./shim-task.js";
import { TaskList } from "./task-list.js";

/** How long cleaning up after a dead or failed shim may take (containerd's shim cleanup timeout). */
export const CLEANUP_TIMEOUT_MS = 5_000;
/** How long a shim may take to shut down after its task is deleted (containerd's shim shutdown timeout). */
export const SHUTDOWN_TIMEOUT_MS = 3_000;

export interface ShimManagerOptions {
  /** Bundles go to `<stateDir>/<ns>/<id>`, work directories to `<rootDir>/<ns>/<id>`. */
  readonly dirs: BundleDirs;
  readonly grpcAddress: string;
  readonly ttrpcAddress: string;
  /** berthd, for shims that publish events by running `<binary> publish`. */
  readonly publishBinary: string;
  /** Used when a request names no runtime. */
  readonly defaultRuntime: string;
  readonly resolver: ShimResolver;
  /** Extra `KEY=value` entries for every shim's environment. */
  readonly shimEnv?: readonly string[];
  /** Start shims with -debug. */
  readonly shimDebug?: boolean;
  /** Container records, for the runtime of a bundle that does not name its shim. */
  readonly containers: Pick<ContainerStore, "get">;
  /** Where the manager publishes the exits of shims that died. */
  readonly publisher: Publisher;
  readonly log: Logger;
  /** How long an idle Berth group shim is kept for the group's next container (GROUP_LINGER_MS). */
  readonly groupLingerMs?: number;
}

/** The shim manager: a PlatformRuntime whose tasks each run under a v2 shim. */
export interface ShimManager extends PlatformRuntime {
  /**
   * After a daemon restart: reconnects to the shim of every bundle in the state directory and
   * lists its task again; cleans up after shims that are gone. Call once, before serving.
   */
  loadExisting(): Promise<LoadReport>;
  /** Closes every shim connection. Shims and their containers keep running. */
  close(): Promise<void>;
}

/**
 * containerd's TaskManager + ShimManager for v2 shims: creates a bundle per task, starts the
 * runtime's shim binary in it, drives the task over ttrpc and, when a shim goes away, runs the
 * binary's `delete` to clean up after it and publishes the task's exit.
 */
export function createShimManager(opts: ShimManagerOptions): ShimManager {
  return new ShimManagerImpl(opts);
}

/** The manager, with the parts load-shims.ts needs public; only ShimManager leaves the package. */
export class ShimManagerImpl implements ShimManager {
  readonly defaultRuntime: string;
  readonly tasksList = new TaskList();
  readonly #opts: ShimManagerOptions;
  readonly #cleanups = new Map<ShimInstance, Promise<Exit>>();
  readonly #idleGroups: IdleGroupShims;
  /** `start`s under way for Berth group sockets, so a group's concurrent tasks share one. */
  readonly #groupStarts = new Map<string, Promise<ShimInstance>>();

  constructor(opts: ShimManagerOptions) {
    this.#opts = opts;
    this.defaultRuntime = opts.defaultRuntime;
    this.#idleGroups = new IdleGroupShims({
      lingerMs: opts.groupLingerMs ?? GROUP_LINGER_MS,
      shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS,
      inUse: (address) => this.#servesTasks(address),
      log: opts.log,
    });
  }

  async create(ctx: OpContext, id: string, opts: CreateTaskOptions): Promise<RuntimeTask> {
    const release = this.tasksList.reserve(ctx.namespace, id);
    try {
      const runtime = opts.runtime || this.defaultRuntime;
      const binary = await this.#opts.resolver.resolve(runtime);
      const bundle = await createBundle(this.#opts.dirs, ctx.namespace, id, opts.spec);
      let shim: ShimInstance | undefined;
      try {
        const group = isBerthShim(binary) ? berthGroupAddress(this.invocation(bundle, binary), opts.spec) : undefined;
        if (group) {
          await this.#idleGroups.settled(group);
          // Tasks created together in a group with no shim yet wait for the first one's start.
          await this.#groupStarts.get(group)?.catch(() => undefined);
        }
        if (group && this.#groupIsLive(group)) {
          shim = await this.#joinGroup(bundle, runtime, binary, group);
        } else {
          const starting = this.#startShim(bundle, runtime, binary, pickOptions(opts), ctx.signal);
          if (group) {
            this.#groupStarts.set(group, starting);
            void starting.catch(() => undefined).finally(() => {
              if (this.#groupStarts.get(group) === starting) this.#groupStarts.delete(group);
            });
          }
          shim = await starting;
        }
        shim.known = true;
        this.tasksList.add(shim);
        const created = await shim.client.create(
          {
            id,
            bundle: bundle.path,
            rootfs: opts.rootfs.map(mountToWire),
            terminal: opts.io.terminal,
            stdin: opts.io.stdin,
            stdout: opts.io.stdout,
            stderr: opts.io.stderr,
            checkpoint: opts.checkpoint ?? "",
            options: anyToWire(pickOptions(opts)),
          },
          ctx.signal ? { signal: ctx.signal } : undefined,
        );
        shim.initPid = created.pid;
        return new ShimTask(shim);
      } catch (err) {
        if (shim) {
          this.tasksList.remove(shim);
          await this.#retireShim(shim);
        }
        await deleteBundle(bundle).catch((cleanupErr: unknown) =>
          this.#opts.log.error("failed to delete bundle after a failed create", { id, error: cleanupErr }),
        );
        const tail = shim?.log.tail();
        throw prefixed(err, `failed to create shim task${tail ? ` (shim log: ${tail})` : ""}`);
      }
    } finally {
      release();
    }
  }

  async get(ctx: OpContext, id: string): Promise<RuntimeTask> {
    return new ShimTask(this.tasksList.get(ctx.namespace, id));
  }

  async tasks(ctx: OpContext, all: boolean): Promise<RuntimeTask[]> {
    return this.tasksList.list(all ? undefined : ctx.namespace).map((shim) => new ShimTask(shim));
  }

  async delete(ctx: OpContext, id: string): Promise<Exit> {
    const shim = this.tasksList.get(ctx.namespace, id);
    await this.#opts.containers.get(ctx, id);
    if (shim.lost) return this.#cleanupLost(shim);
    let exit: Exit;
    try {
      const r = await shim.client.delete({ id }, ctx.signal ? { signal: ctx.signal } : undefined);
      exit = exitFromWire(r.pid, r);
    } catch (err) {
      // A shim that died under the call is cleaned up the way every lost shim is.
      if (shim.isGone(err)) return this.#cleanupLost(shim);
      if (!isNotFound(err)) throw prefixed(err, "failed to delete task");
      this.tasksList.remove(shim);
      await this.#retireShim(shim);
      await this.#deleteBundle(shim.bundle);
      throw prefixed(err, "failed to delete task");
    }
    this.tasksList.remove(shim);
    await this.#release(shim);
    await this.#deleteBundle(shim.bundle);
    return exit;
  }

  loadExisting(): Promise<LoadReport> {
    return loadExistingShims({ manager: this, dirs: this.#opts.dirs, resolver: this.#opts.resolver, containers: this.#opts.containers, log: this.#opts.log });
  }

  async close(): Promise<void> {
    await this.#idleGroups.close();
    await Promise.all(this.tasksList.list(undefined).map((shim) => shim.close()));
    // Cleanups after lost shims already under way finish; none start, the connections being closed.
    await Promise.allSettled([...this.#cleanups.values()]);
  }

  /** How shim binary `binary` is invoked for `bundle`. */
  invocation(bundle: Bundle, binary: string): ShimInvocation {
    return {
      binary,
      namespace: bundle.namespace,
      id: bundle.id,
      bundle: bundle.path,
      grpcAddress: this.#opts.grpcAddress,
      ttrpcAddress: this.#opts.ttrpcAddress,
      publishBinary: this.#opts.publishBinary,
      debug: this.#opts.shimDebug ?? false,
      env: this.#opts.shimEnv ?? [],
    };
  }

  /** Connects to a shim that runs (or ran) for `bundle`; the connection reports its loss to the manager. */
  connect(bundle: Bundle, runtime: string, binary: string, address: ShimAddress, log: ShimLog): ShimInstance {
    return new ShimInstance({
      bundle,
      runtime,
      invocation: this.invocation(bundle, binary),
      address,
      log,
      logger: this.#opts.log,
      onLost: (lost) => void this.#cleanupLost(lost),
    });
  }

  /**
   * containerd's cleanupAfterDeadShim: runs the shim binary's `delete` (which removes what the
   * dead shim left: runc state, mounts), then publishes the task's exit and delete, since the
   * shim can no longer, and removes the bundle. The exit is published only for a task clients
   * may know of (`shim.known`). Runs once per shim; later callers share it.
   */
  cleanupLost(shim: ShimInstance): Promise<Exit> {
    return this.#cleanupLost(shim);
  }

  /** Asks a shim whose task is gone (or never came) to exit, and closes its connection. */
  async retire(shim: ShimInstance): Promise<void> {
    await this.#retireShim(shim);
  }

  async deleteBundleLogged(bundle: Bundle): Promise<void> {
    await this.#deleteBundle(bundle);
  }

  #cleanupLost(shim: ShimInstance): Promise<Exit> {
    let running = this.#cleanups.get(shim);
    if (!running) {
      running = this.#runCleanupLost(shim);
      this.#cleanups.set(shim, running);
      void running.finally(() => this.#cleanups.delete(shim));
    }
    return running;
  }

  async #runCleanupLost(shim: ShimInstance): Promise<Exit> {
    this.tasksList.remove(shim);
    await shim.close();
    return this.reap(shim.bundle, shim.invocation, shim.known);
  }

  /**
   * What is left to do for a bundle whose shim is gone: the shim binary's `delete`, the bundle
   * removed, and, when clients may know of the task, its `/tasks/exit` and `/tasks/delete`.
   */
  async reap(bundle: Bundle, invocation: ShimInvocation, publish: boolean): Promise<Exit> {
    const log = this.#opts.log.with({ id: bundle.id, namespace: bundle.namespace });
    log.warn("cleaning up after shim disconnected");
    let exit: Exit | undefined;
    try {
      const result = await runShimDelete(invocation, AbortSignal.timeout(CLEANUP_TIMEOUT_MS));
      if (result.warnings) log.warn("warnings while cleaning up dead shim", { warnings: result.warnings });
      exit = result.exit;
    } catch (err) {
      log.warn("failed to clean up after shim disconnected", { error: err });
    }
    // containerd's answer when the shim cannot say how the task ended.
    exit ??= { pid: 0, status: 255, exitedAt: new Date() };
    await this.#deleteBundle(bundle);
    if (publish) await this.#publishExit(bundle, exit);
    return exit;
  }

  async #publishExit(bundle: Bundle, exit: Exit): Promise<void> {
    const exitedAt = timestampFromDate(exit.exitedAt);
    const base = { containerId: bundle.id, pid: exit.pid, exitStatus: exit.status, exitedAt };
    try {
      await this.#opts.publisher.publish(bundle.namespace, TaskTopics.exit, packAny(eventPayloads.TaskExitSchema, { ...base, id: bundle.id }));
      await this.#opts.publisher.publish(bundle.namespace, TaskTopics.delete, packAny(eventPayloads.TaskDeleteSchema, base));
    } catch (err) {
      this.#opts.log.error("failed to publish the exit of a dead shim's task", { id: bundle.id, namespace: bundle.namespace, error: err });
    }
  }

  async #startShim(bundle: Bundle, runtime: string, binary: string, options: CreateTaskOptions["runtimeOptions"], signal: AbortSignal | undefined): Promise<ShimInstance> {
    const log = openShimLog(bundle.path, this.#opts.log.with({ shim: bundle.id, namespace: bundle.namespace }));
    try {
      const address = await runShimStart(this.invocation(bundle, binary), options, signal);
      return await this.#recordAndConnect(bundle, runtime, binary, address, log);
    } catch (err) {
      log.close();
      throw err;
    }
  }

  /**
   * Berth's documented fast path: a Berth group shim the daemon knows to be alive (serving
   * another task, or parked idle) takes the task without a `start` process; the bundle records
   * its address as `start` would. Any other shim goes through containerd's start protocol.
   */
  #groupIsLive(address: string): boolean {
    return this.#idleGroups.take(address) || this.#servesTasks(address);
  }

  /** Whether a live Berth shim at `address` serves a task the manager lists. */
  #servesTasks(address: string): boolean {
    return this.tasksList.list(undefined).some((other) => !other.lost && isBerthShim(other.invocation.binary) && other.address.address === address);
  }

  async #joinGroup(bundle: Bundle, runtime: string, binary: string, address: string): Promise<ShimInstance> {
    const log = openShimLog(bundle.path, this.#opts.log.with({ shim: bundle.id, namespace: bundle.namespace }));
    try {
      return await this.#recordAndConnect(bundle, runtime, binary, { version: 2, protocol: "ttrpc", address }, log);
    } catch (err) {
      log.close();
      throw err;
    }
  }

  /** Records in the bundle which shim serves it and where, for a restarted daemon, then connects. */
  async #recordAndConnect(bundle: Bundle, runtime: string, binary: string, address: ShimAddress, log: ShimLog): Promise<ShimInstance> {
    writeFileSync(join(bundle.path, SHIM_BINARY_FILE), binary, { mode: 0o600 });
    await writeShimAddress(bundle.path, address);
    return this.connect(bundle, runtime, binary, address, log);
  }

  /**
   * After its task was deleted: a Berth group shim that still serves other tasks is left alone,
   * one that serves none is parked for the group's next task; every other shim is shut down.
   */
  async #release(shim: ShimInstance): Promise<void> {
    if (!isBerthShim(shim.invocation.binary)) return this.#shutdown(shim);
    const address = shim.address.address;
    if (this.#servesTasks(address)) return shim.close();
    this.#idleGroups.park(address, shim.detach(), shim.id);
  }

  /** Deletes the task if the shim still has one, asks the shim to exit, closes the connection. */
  async #retireShim(shim: ShimInstance): Promise<void> {
    const signal = AbortSignal.timeout(CLEANUP_TIMEOUT_MS);
    await shim.client.delete({ id: shim.id }, { signal }).catch(() => undefined);
    await this.#shutdown(shim);
  }

  async #shutdown(shim: ShimInstance): Promise<void> {
    shim.retire();
    try {
      await shim.client.shutdown({ id: shim.id }, { signal: AbortSignal.timeout(SHUTDOWN_TIMEOUT_MS) });
    } catch (err) {
      // The shim exits before it answers, which closes the connection: that is success.
      if (classOf(err) !== "Unavailable") {
        this.#opts.log.error("failed to shutdown shim task and the shim might be leaked", { id: shim.id, error: err });
      }
    }
    await shim.close();
  }

  async #deleteBundle(bundle: Bundle): Promise<void> {
    try {
      await deleteBundle(bundle);
    } catch (err) {
      this.#opts.log.error("failed to delete bundle", { id: bundle.id, namespace: bundle.namespace, path: bundle.path, error: err });
    }
  }
}

/** Task options win over the container's runtime options, unless empty (containerd's rule). */
function pickOptions(opts: CreateTaskOptions): CreateTaskOptions["runtimeOptions"] {
  return opts.taskOptions && opts.taskOptions.value.length > 0 ? opts.taskOptions : opts.runtimeOptions;
}

function prefixed(err: unknown, prefix: string): BerthError {
  const message = err instanceof Error ? err.message : String(err);
  return new BerthError(classOf(err), `${prefix}: ${message}`, { cause: err });
}
