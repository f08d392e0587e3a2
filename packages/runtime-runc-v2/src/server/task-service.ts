import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { packAny, runcOptions, shimTaskApi, taskTypes } from "@berth/api";
import { alreadyExists, canceled, failedPrecondition, invalidArgument, notFound, type Logger, type ServiceImpl } from "@berth/core";
import { cgroupMetrics } from "../cgroups/cgroup-metrics.js";
import type { OomWatcher } from "../cgroups/oom-watcher.js";
import { Container } from "../container/container.js";
import type { ShimProcess, ProcessStatus } from "../container/shim-process.js";
import type { EventPublisher } from "../events/event-publisher.js";
import * as events from "../events/task-events.js";
import type { Reaper } from "../process/reaper.js";
import { decodeRuncOptions } from "../runc/runc-options-any.js";

export interface TaskServiceDeps {
  readonly namespace: string;
  readonly reaper: Reaper;
  readonly publisher: EventPublisher;
  readonly oom: OomWatcher;
  readonly log: Logger;
  /** Called when Shutdown finds no container left: the shim process may go. */
  readonly shutdown: () => void;
  /**
   * How long a Shutdown that finds no container waits before the shim goes, for a shim other
   * containers may join (a group's): a `start` that found its socket an instant before has
   * handed the address to the daemon, whose Create is on its way and must find the shim there.
   * A Create in that time cancels the exit. 0: go at once.
   */
  readonly shutdownGraceMs?: number;
  /** Told how many containers the shim serves (or is creating) whenever that number changes. */
  readonly occupancy?: (count: number) => void;
}

/** The shim's containers, shared by the task service and the process that serves it. */
export interface ShimState {
  readonly containers: ReadonlyMap<string, Container>;
}

type TaskService = Partial<ServiceImpl<typeof shimTaskApi.Task>>;

const STATUS: Record<ProcessStatus, taskTypes.Status> = {
  created: taskTypes.Status.CREATED,
  running: taskTypes.Status.RUNNING,
  pausing: taskTypes.Status.PAUSING,
  paused: taskTypes.Status.PAUSED,
  stopped: taskTypes.Status.STOPPED,
  deleted: taskTypes.Status.UNKNOWN,
};

/**
 * containerd.task.v2.Task for every container this shim serves. One shim process may serve
 * many containers (a pod, or a whole namespace): every request names its container.
 */
export function createTaskService(deps: TaskServiceDeps): { service: TaskService; state: ShimState } {
  const containers = new Map<string, Container>();
  const creating = new Set<string>();
  let shuttingDown = false;
  const { publisher, log } = deps;
  const occupancyChanged = () => deps.occupancy?.(containers.size + creating.size);
  let pendingExit: NodeJS.Timeout | undefined;
  const exitIfEmpty = () => {
    pendingExit = undefined;
    if (containers.size > 0 || creating.size > 0) return; // one joined meanwhile: stay
    shuttingDown = true;
    log.info("shutting down: no container left");
    deps.shutdown();
  };

  const get = (id: string): Container => {
    const container = containers.get(id);
    if (!container) throw notFound(`container ${id} not created`);
    return container;
  };
  const exitedAt = (p: ShimProcess) => (p.exitedAt ? timestampFromDate(p.exitedAt) : undefined);

  const onExit = (container: Container, p: ShimProcess) => {
    publisher.publish(events.taskExit({ containerId: container.id, id: p.id, pid: p.pid, exitStatus: p.exitStatus, exitedAt: exitedAt(p) }));
  };

  const service: TaskService = {
    async create(req) {
      if (shuttingDown) throw failedPrecondition("shim is shutting down");
      if (req.id === "" || req.bundle === "") throw invalidArgument("create: id and bundle are required");
      if (containers.has(req.id) || creating.has(req.id)) throw alreadyExists(`container ${req.id} already exists`);
      clearTimeout(pendingExit);
      pendingExit = undefined;
      creating.add(req.id);
      occupancyChanged();
      try {
        const container = await Container.create(
          {
            id: req.id,
            bundle: req.bundle,
            rootfs: req.rootfs.map((m) => ({ type: m.type, source: m.source, target: m.target, options: m.options })),
            stdio: { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal },
            checkpoint: req.checkpoint,
            parentCheckpoint: req.parentCheckpoint,
            options: decodeRuncOptions(req.options),
          },
          { namespace: deps.namespace, reaper: deps.reaper, log, onExit },
        );
        containers.set(req.id, container);
        publisher.publish(
          events.taskCreate({
            containerId: req.id,
            bundle: req.bundle,
            rootfs: req.rootfs,
            io: { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal },
            checkpoint: req.checkpoint,
            pid: container.init.pid,
          }),
        );
        if (container.cgroup) deps.oom.add(req.id, container.cgroup);
        return { pid: container.init.pid };
      } finally {
        creating.delete(req.id);
        occupancyChanged();
      }
    },

    async start(req) {
      const container = get(req.id);
      const p = await container.start(req.execId, (started) => {
        publisher.publish(
          req.execId === ""
            ? events.taskStart({ containerId: container.id, pid: started.pid })
            : events.taskExecStarted({ containerId: container.id, execId: req.execId, pid: started.pid }),
        );
      });
      if (req.execId === "" && container.cgroup) deps.oom.add(container.id, container.cgroup);
      return { pid: p.pid };
    },

    async delete(req) {
      const container = get(req.id);
      const p = await container.delete(req.execId);
      if (req.execId === "") {
        containers.delete(req.id);
        deps.oom.remove(req.id);
        publisher.publish(events.taskDelete({ containerId: container.id, pid: p.pid, exitStatus: p.exitStatus, exitedAt: exitedAt(p), id: container.id }));
        occupancyChanged();
      }
      return { pid: p.pid, exitStatus: p.exitStatus, exitedAt: exitedAt(p) };
    },

    async exec(req) {
      const container = get(req.id);
      if (req.execId === "") throw invalidArgument("exec: an exec id is required");
      let spec: Record<string, unknown>;
      try {
        spec = JSON.parse(new TextDecoder().decode(req.spec?.value ?? new Uint8Array())) as Record<string, unknown>;
      } catch (err) {
        throw invalidArgument(`exec: process spec is not JSON: ${(err as Error).message}`, err);
      }
      container.exec(req.execId, { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal }, spec);
      publisher.publish(events.taskExecAdded({ containerId: container.id, execId: req.execId }));
      return {};
    },

    async state(req) {
      const container = get(req.id);
      const p = container.process(req.execId);
      // While the container is (being) paused, so is every process in it.
      const paused = container.init.status === "paused" || container.init.status === "pausing";
      const status = req.execId !== "" && paused && !p.hasExited ? container.init.status : p.status;
      return {
        id: p.id,
        bundle: container.bundle,
        pid: p.pid,
        status: STATUS[status],
        stdin: p.stdio.stdin,
        stdout: p.stdio.stdout,
        stderr: p.stdio.stderr,
        terminal: p.stdio.terminal,
        exitStatus: p.exitStatus,
        exitedAt: exitedAt(p),
        execId: req.execId,
      };
    },

    async pause(req) {
      const container = get(req.id);
      await container.pause();
      publisher.publish(events.taskPaused({ containerId: container.id }));
      return {};
    },

    async resume(req) {
      const container = get(req.id);
      await container.resume();
      publisher.publish(events.taskResumed({ containerId: container.id }));
      return {};
    },

    async kill(req) {
      await get(req.id).kill(req.execId, req.signal, req.all);
      return {};
    },

    async pids(req) {
      const container = get(req.id);
      const pids = await container.pids();
      const execByPid = new Map([...container.execs.values()].filter((p) => p.pid !== 0).map((p) => [p.pid, p.execId]));
      return {
        processes: pids.map((pid) => {
          const execId = execByPid.get(pid);
          return { pid, ...(execId !== undefined ? { info: packAny(runcOptions.ProcessDetailsSchema, { execId }) } : {}) };
        }),
      };
    },

    async closeIO(req) {
      const p = get(req.id).process(req.execId);
      if (req.stdin) p.closeStdin();
      return {};
    },

    async checkpoint(req) {
      const container = get(req.id);
      await container.checkpoint(req.path, req.options);
      publisher.publish(events.taskCheckpointed({ containerId: container.id, checkpoint: req.path }));
      return {};
    },

    async update(req) {
      await get(req.id).update(req.resources);
      return {};
    },

    async wait(req, ctx) {
      const p = get(req.id).process(req.execId);
      if (!p.hasExited && p.status !== "deleted") {
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => reject(canceled("wait canceled"));
          ctx.signal.addEventListener("abort", onAbort, { once: true });
          void p.wait().then(() => {
            ctx.signal.removeEventListener("abort", onAbort);
            resolve();
          });
        });
      }
      return { exitStatus: p.exitStatus, exitedAt: exitedAt(p) };
    },

    async stats(req) {
      const container = get(req.id);
      if (!container.cgroup) throw notFound("cgroup does not exist");
      return { stats: await cgroupMetrics(container.cgroup) };
    },

    async connect(req) {
      return { shimPid: process.pid, taskPid: containers.get(req.id)?.init.pid ?? 0 };
    },

    async resizePty(req) {
      get(req.id).process(req.execId).resize(req.width, req.height);
      return {};
    },

    async shutdown() {
      // A shim serving a group goes only once its last container is gone.
      if (containers.size > 0 || creating.size > 0 || shuttingDown || pendingExit) return {};
      const graceMs = deps.shutdownGraceMs ?? 0;
      if (graceMs > 0) pendingExit = setTimeout(exitIfEmpty, graceMs);
      else setImmediate(exitIfEmpty);
      return {};
    },
  };
  return { service: traced(service, log), state: { containers } };
}

/** Each call logged at debug level (containerd shows its shims' logs when it runs with -debug). */
function traced(service: TaskService, log: Logger): TaskService {
  if (log.level !== "debug" && log.level !== "trace") return service;
  const out: Record<string, unknown> = {};
  for (const [name, handler] of Object.entries(service)) {
    out[name] = (req: { id?: string; execId?: string }, ctx: unknown) => {
      log.debug(name, { id: req.id, execId: req.execId || undefined });
      return (handler as (r: unknown, c: unknown) => unknown)(req, ctx);
    };
  }
  return out as TaskService;
}
