import { eventPayloads, unpackAny } from "@berth/api";
import { isNotFound, TaskTopics, type Logger, type RuntimeTask } from "@berth/core";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { ContainerContext } from "./container-context.js";
import { opContext, taskRuntime } from "./container-context.js";
import { ContainerEventType, publishContainerEvent } from "./container-event-publish.js";
import type { ContainerEntry } from "./container-store.js";
import { dateToNanos } from "./nanos.js";

/** How long an exited container's output may still drain into its log (children holding the pipe). */
const OUTPUT_DRAIN_MS = 2000;

/**
 * Records how containers end. Two sources feed it, whichever comes first: /tasks/exit (and
 * /tasks/oom) events from the exchange, and a wait on each task started here, which still
 * answers if an event was lost. Recording is idempotent: the task is deleted (unmounting the
 * rootfs), the log drained and closed, the status saved, CONTAINER_STOPPED_EVENT published.
 */
export interface ExitTracker {
  /** Waits on `task` in the background and records its exit. */
  watch(entry: ContainerEntry, task: RuntimeTask): void;
  recordExit(entry: ContainerEntry, exit: { status: number; exitedAt: Date }): Promise<void>;
  /** Resolves once the container's exit was recorded (at once when it already was). */
  exited(id: string): Promise<void>;
  /** Follows the task events until `signal` aborts. */
  follow(c: ContainerContext, signal: AbortSignal): void;
  /** Drops a removed container's bookkeeping. */
  forget(id: string): void;
}

export function createExitTracker(getContext: () => ContainerContext, log: Logger, signal: AbortSignal): ExitTracker {
  const waiters = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  const recording = new Map<string, Promise<void>>();
  const waiterFor = (id: string) => {
    let w = waiters.get(id);
    if (w === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      w = { promise, resolve };
      waiters.set(id, w);
    }
    return w;
  };

  async function record(entry: ContainerEntry, exit: { status: number; exitedAt: Date }): Promise<void> {
    const c = getContext();
    const s = entry.record.status;
    if (s.state !== "exited") {
      s.state = "exited";
      s.pid = 0;
      s.exitCode = exit.status;
      s.finishedAt = dateToNanos(exit.exitedAt);
      if (s.oomKilled && s.reason === "") s.reason = "OOMKilled";
    }
    try {
      await taskRuntime(c).delete(opContext(), entry.record.id);
    } catch (err) {
      if (!isNotFound(err)) log.warn("cri: deleting an exited container's task failed", { id: entry.record.id, error: err });
    }
    const io = entry.io;
    if (io !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([io.outputDone, new Promise<void>((r) => (timer = setTimeout(r, OUTPUT_DRAIN_MS)))]);
      clearTimeout(timer);
      await io.close();
    }
    await c.store.saveStatus(entry).catch((err: unknown) => log.warn("cri: saving a container's status failed", { id: entry.record.id, error: err }));
    waiterFor(entry.record.id).resolve();
    await publishContainerEvent(c, entry, ContainerEventType.stopped).catch(() => undefined);
  }

  const tracker: ExitTracker = {
    watch(entry, task) {
      const id = entry.record.id;
      void task.wait(signal).then(
        (exit) => tracker.recordExit(entry, exit),
        (err: unknown) => {
          if (signal.aborted) return;
          log.warn("cri: waiting for a container's task failed", { id, error: err });
        },
      );
    },
    recordExit(entry, exit) {
      const id = entry.record.id;
      let p = recording.get(id);
      if (p === undefined) {
        p = record(entry, exit).catch((err: unknown) => log.error("cri: recording a container's exit failed", { id, error: err }));
        recording.set(id, p);
      }
      return p;
    },
    exited(id) {
      const c = getContext();
      const entry = c.store.find(id);
      if (entry !== undefined && entry.record.status.state === "exited" && !recording.has(id)) return Promise.resolve();
      return waiterFor(id).promise;
    },
    forget(id) {
      waiters.get(id)?.resolve();
      waiters.delete(id);
      recording.delete(id);
    },
    follow(c, stop) {
      const topics = [`topic=="${TaskTopics.exit}"`, `topic=="${TaskTopics.oom}"`].map((f) => `namespace=="k8s.io",${f}`);
      void (async () => {
        try {
          for await (const env of c.base.events.subscribe(topics, stop)) {
            if (env.topic === TaskTopics.exit) {
              const e = unpackAny(eventPayloads.TaskExitSchema, env.event);
              if (e === undefined || e.id !== e.containerId) continue;
              const entry = c.store.find(e.containerId);
              if (entry === undefined || entry.record.status.state !== "running") continue;
              void tracker.recordExit(entry, { status: e.exitStatus, exitedAt: e.exitedAt ? timestampDate(e.exitedAt) : new Date() });
            } else {
              const e = unpackAny(eventPayloads.TaskOOMSchema, env.event);
              const entry = e && c.store.find(e.containerId);
              if (entry === undefined) continue;
              entry.record.status.oomKilled = true;
              entry.record.status.reason = "OOMKilled";
              void c.store.saveStatus(entry).catch(() => undefined);
            }
          }
        } catch (err) {
          if (!stop.aborted) log.error("cri: following task events failed", { error: err });
        }
      })();
    },
  };
  return tracker;
}
