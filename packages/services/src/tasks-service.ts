import { tasksApi } from "@berth/api";
import {
  alreadyExists,
  bindService,
  classOf,
  invalidArgument,
  isNotFound,
  notFound,
  notImplemented,
  parseFilters,
  type CallContext,
  type Container,
  type GrpcService,
  type MetadataStore,
  type OpContext,
  type PlatformRuntime,
  type RuntimeProcess,
  type RuntimeTask,
} from "@berth/core";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { anyToWire } from "./convert-containers.js";
import { descriptorToWire } from "@berth/wire";
import { exitToWire, ioFromWire, mountsFromWire, optionalAny, processInfoToWire, processToWire, unknownProcess, type ProcessOut } from "./convert-tasks.js";
import { opContext } from "./edge.js";
import { checkpointDir, removeCheckpointDir, requestedImagePath, requestedRestorePath, storeCheckpoint } from "./tasks-checkpoint.js";

/** How long one process's state may take in Get and List (containerd's io.containerd.timeout.task.state). */
export const STATE_TIMEOUT_MS = 2_000;

/**
 * containerd.services.tasks.v1.Tasks over a runtime (io.containerd.runtime.v2.task) and the
 * container records. Like containerd's service it publishes nothing itself: the shims publish
 * /tasks/create, start, exec-added, exec-started, paused, resumed, checkpointed, oom, exit and
 * delete, and the runtime publishes exit and delete for a shim that died.
 */
export function createTasksService(runtime: PlatformRuntime, metadata: Pick<MetadataStore, "containers" | "content">): GrpcService {
  const container = (op: OpContext, id: string) => metadata.containers.get(op, id);

  /** The container's task; NotFound (containerd's words) when it has none. */
  async function taskOf(op: OpContext, id: string): Promise<RuntimeTask> {
    await container(op, id);
    return runtime.get(op, id).catch((err: unknown) => {
      throw isNotFound(err) ? notFound(`task ${id} not found`, err) : err;
    });
  }

  /** The task's init process, or the exec `execId` when one is named. */
  async function processOf(op: OpContext, id: string, execId: string): Promise<RuntimeProcess> {
    const task = await taskOf(op, id);
    return execId === "" ? task : task.process(execId, op.signal);
  }

  return {
    bindings: [
      bindService(tasksApi.Tasks, {
        async create(req, ctx) {
          const op = opContext(ctx);
          const c = await container(op, req.containerId);
          const options = optionalAny(req.options);
          if (req.checkpoint && req.checkpoint.annotations["RestoreFromPath"] === undefined && requestedRestorePath(options) === "") {
            throw notImplemented("restoring a task from a checkpoint in the content store is not supported yet; pass the checkpoint directory as criu_image_path");
          }
          const checkpoint = req.checkpoint?.annotations["RestoreFromPath"] ?? requestedRestorePath(options);
          const existing = await runtime.get(op, req.containerId).catch((err: unknown) => {
            if (isNotFound(err)) return undefined;
            throw err;
          });
          if (existing) throw alreadyExists(`task ${req.containerId}: already exists`);
          const task = await runtime.create(op, req.containerId, {
            spec: c.spec,
            rootfs: mountsFromWire(req.rootfs),
            io: ioFromWire(req),
            checkpoint,
            runtime: req.runtimePath || c.runtime.name,
            runtimeOptions: c.runtime.options,
            taskOptions: options,
            sandboxId: c.sandbox,
          });
          return { containerId: req.containerId, pid: await task.pid(op.signal) };
        },

        async start(req, ctx) {
          const op = opContext(ctx);
          if (req.execId === "") {
            // The init's pid is the task's: the runtime knows it without asking the shim again.
            const task = await taskOf(op, req.containerId);
            await task.start(op.signal);
            return { pid: await task.pid(op.signal) };
          }
          const process = await processOf(op, req.containerId, req.execId);
          await process.start(op.signal);
          return { pid: (await process.state(op.signal)).pid };
        },

        async delete(req, ctx) {
          const op = opContext(ctx);
          await container(op, req.containerId);
          await runtime.get(op, req.containerId).catch((err: unknown) => {
            throw isNotFound(err) ? notFound(`task ${req.containerId} not found`, err) : err;
          });
          return exitToWire(await runtime.delete(op, req.containerId));
        },

        async deleteProcess(req, ctx) {
          const op = opContext(ctx);
          const task = await taskOf(op, req.containerId);
          const exec = await task.process(req.execId, op.signal);
          return { id: req.execId, ...exitToWire(await exec.delete(op.signal)) };
        },

        async get(req, ctx) {
          const op = opContext(ctx);
          const process = await processOf(op, req.containerId, req.execId);
          return { process: processToWire(await process.state(stateSignal(ctx))) };
        },

        async list(_req, ctx) {
          const op = opContext(ctx);
          const tasks = await runtime.tasks(op, false);
          const listed = await Promise.all(tasks.map((t) => listedState(t, ctx)));
          return { tasks: listed.filter((p): p is ProcessOut => p !== undefined) };
        },

        async kill(req, ctx) {
          const op = opContext(ctx);
          const process = await processOf(op, req.containerId, req.execId);
          await process.kill(req.signal, req.all, op.signal);
          return {};
        },

        async exec(req, ctx) {
          if (req.execId === "") throw invalidArgument("exec id cannot be empty");
          const op = opContext(ctx);
          const task = await taskOf(op, req.containerId);
          await task.exec(req.execId, { spec: optionalAny(req.spec), io: ioFromWire(req) }, op.signal);
          return {};
        },

        async resizePty(req, ctx) {
          const op = opContext(ctx);
          const process = await processOf(op, req.containerId, req.execId);
          await process.resizePty({ width: req.width, height: req.height }, op.signal);
          return {};
        },

        async closeIO(req, ctx) {
          const op = opContext(ctx);
          const process = await processOf(op, req.containerId, req.execId);
          if (req.stdin) await process.closeIO(op.signal);
          return {};
        },

        async pause(req, ctx) {
          const op = opContext(ctx);
          await (await taskOf(op, req.containerId)).pause(op.signal);
          return {};
        },

        async resume(req, ctx) {
          const op = opContext(ctx);
          await (await taskOf(op, req.containerId)).resume(op.signal);
          return {};
        },

        async listPids(req, ctx) {
          const op = opContext(ctx);
          const pids = await (await taskOf(op, req.containerId)).pids(op.signal);
          return { processes: pids.map(processInfoToWire) };
        },

        async checkpoint(req, ctx) {
          const op = opContext(ctx);
          const c: Container = await container(op, req.containerId);
          const task = await taskOf(op, req.containerId);
          const options = optionalAny(req.options);
          const requested = requestedImagePath(options);
          const image = requested || (await checkpointDir());
          try {
            await task.checkpoint(image, options, op.signal);
            // A checkpoint written where the client asked stays there, out of the content store.
            if (requested) return { descriptors: [] };
            const descriptors = await storeCheckpoint(metadata.content, op, image, c.spec);
            return { descriptors: descriptors.map(descriptorToWire) };
          } finally {
            if (!requested) await removeCheckpointDir(image);
          }
        },

        async update(req, ctx) {
          const op = opContext(ctx);
          await (await taskOf(op, req.containerId)).update(optionalAny(req.resources), req.annotations, op.signal);
          return {};
        },

        async metrics(req, ctx) {
          const op = opContext(ctx);
          const filter = parseFilters(req.filters);
          const tasks = (await runtime.tasks(op, false)).filter((t) =>
            filter.match((path) => (path.length !== 1 ? undefined : path[0] === "id" ? t.id : path[0] === "namespace" ? t.namespace : path[0] === "runtime" ? t.runtime : undefined)),
          );
          const metrics = await Promise.all(
            tasks.map(async (t) => {
              const collected = new Date();
              const stats = await t.stats(op.signal).catch((err: unknown) => {
                if (isNotFound(err)) return null;
                throw err;
              });
              if (stats === null) return undefined;
              return { timestamp: timestampFromDate(collected), id: t.id, ...(stats ? { data: anyToWire(stats) } : {}) };
            }),
          );
          return { metrics: metrics.filter((m) => m !== undefined) };
        },

        async wait(req, ctx) {
          const op = opContext(ctx);
          const exit = await (await processOf(op, req.containerId, req.execId)).wait(op.signal);
          const { exitStatus, exitedAt } = exitToWire(exit);
          return { exitStatus, exitedAt };
        },
      }),
    ],
  };
}

/** Bounded by containerd's state timeout, and by the call. */
function stateSignal(ctx: CallContext): AbortSignal {
  return AbortSignal.any([ctx.signal, AbortSignal.timeout(STATE_TIMEOUT_MS)]);
}

/**
 * A task as List shows it: a task that disappeared meanwhile, or whose shim does not answer,
 * is left out; one whose state cannot be read otherwise is listed as UNKNOWN (containerd's rule).
 */
async function listedState(task: RuntimeTask, ctx: CallContext): Promise<ProcessOut | undefined> {
  try {
    return processToWire(await task.state(stateSignal(ctx)));
  } catch (err) {
    const cls = classOf(err);
    if (cls === "NotFound" || cls === "Unavailable" || cls === "DeadlineExceeded" || cls === "Canceled") return undefined;
    return unknownProcess(task.id);
  }
}
