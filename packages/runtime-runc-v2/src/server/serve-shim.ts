import { unlink } from "node:fs/promises";
import { shimTaskApi } from "@berth/api";
import { createJsonLogger, type Logger } from "@berth/core";
import { createTtrpcServer } from "@berth/ttrpc";
import type { ShimFlags } from "../cli/shim-flags.js";
import { createOomWatcher } from "../cgroups/oom-watcher.js";
import { createEventPublisher } from "../events/event-publisher.js";
import { taskOom } from "../events/task-events.js";
import { createReaper } from "../process/reaper.js";
import { groupSocketAddress, readAddress } from "../start/start-shim.js";
import { createTaskService } from "./task-service.js";

/** The listening socket `start` hands over. */
const INHERITED_SOCKET_FD = 3;
// In-flight calls get this long to answer once the shim decided to go; events this long to leave.
const DRAIN_MS = 2_000;
const EVENT_FLUSH_MS = 5_000;
/**
 * How long a shim serving no container lives on (BERTH_SHIM_IDLE_EXIT_MS overrides it). berthd
 * keeps a group's shim for a few seconds after its last container left, so the next container
 * of the group starts without a new process; this is the net under that for a daemon that died
 * meanwhile, or one that started the shim and never created a container in it.
 */
export const IDLE_EXIT_MS = 60_000;
/**
 * How long a group's shim waits after a Shutdown that left it empty (see TaskServiceDeps): the
 * gap between a `start` finding its socket and the daemon's Create is milliseconds.
 */
export const GROUP_SHUTDOWN_GRACE_MS = 500;

/**
 * The long-running shim: serves containerd.task.v2.Task on the socket `start` bound, reaps
 * every process of its containers, and sends their events to the daemon. It exits when
 * Shutdown finds no container left, or on SIGTERM/SIGINT (its containers keep running).
 */
export async function serveShim(flags: ShimFlags): Promise<void> {
  // stderr is the bundle's log FIFO: a daemon that went away must not take the shim with it.
  process.stderr.on("error", () => {});
  const log = createJsonLogger({ level: flags.debug ? "debug" : "info", fields: { runtime: "io.containerd.berth.v2", namespace: flags.namespace } });
  const bundle = process.cwd();
  const socketAddress = await readAddress(bundle);
  const reaper = createReaper();
  const publisher = createEventPublisher({ address: process.env["TTRPC_ADDRESS"] ?? "", namespace: flags.namespace, log });
  const oom = createOomWatcher((containerId) => publisher.publish(taskOom({ containerId })), log);
  const server = createTtrpcServer({ log });

  let stopping: Promise<void> | undefined;
  const stop = (reason: string) =>
    (stopping ??= (async () => {
      log.info("shim exiting", { reason });
      // The socket file goes first: a `start` for this group must make a new shim from now on.
      if (socketAddress) await unlink(socketAddress.replace(/^unix:\/\//, "")).catch(() => {});
      await server.shutdown(AbortSignal.timeout(DRAIN_MS));
      await publisher.flush(AbortSignal.timeout(EVENT_FLUSH_MS));
      await publisher.close();
      oom.close();
      reaper.close();
      process.exit(0);
    })());

  const idleExitMs = Number(process.env["BERTH_SHIM_IDLE_EXIT_MS"]) || IDLE_EXIT_MS;
  let idleTimer: NodeJS.Timeout | undefined;
  const occupancy = (count: number) => {
    clearTimeout(idleTimer);
    idleTimer = count === 0 ? setTimeout(() => void stop("idle with no container"), idleExitMs) : undefined;
  };
  const { service } = createTaskService({
    namespace: flags.namespace,
    reaper,
    publisher,
    oom,
    log,
    shutdown: () => void stop("no container left"),
    // A group's shim may be handed to a container by a `start` racing its last Shutdown; one on
    // its own container's socket never is.
    shutdownGraceMs: socketAddress === groupSocketAddress(flags, flags.id) ? 0 : GROUP_SHUTDOWN_GRACE_MS,
    occupancy,
  });
  server.register(shimTaskApi.Task, service);
  keepRunningOnBugs(log);
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  await server.listen({ fd: INHERITED_SOCKET_FD });
  occupancy(0); // a shim nobody creates a container in does not stay
  // Exits that happened before the SIGCHLD handler existed (none should) are not lost.
  reaper.reapNow();
  log.debug("serving", { pid: process.pid, bundle });
}

/**
 * A bug in one request must not end the shim: its death would take every container it serves
 * (containerd force-deletes a dead shim's tasks). Log it and go on.
 */
function keepRunningOnBugs(log: Logger): void {
  process.on("uncaughtException", (err) => log.error("uncaught exception", { error: err, stack: err.stack }));
  process.on("unhandledRejection", (err) => log.error("unhandled rejection", { error: err instanceof Error ? err : String(err) }));
}
