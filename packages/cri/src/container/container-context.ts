import { join } from "node:path";
import type { OpContext, Snapshotter } from "@berth/core";
import { failedPrecondition, type PlatformRuntime } from "@berth/core";
import type { CriBase } from "../cri-base.js";
import type { SandboxLookup } from "../runtime/sandbox-controller.js";
import { criOpContext } from "../state/k8s-namespace.js";
import type { ContainerEvents } from "./container-events.js";
import type { ContainerIoOptions } from "./container-io.js";
import type { ContainerRecord } from "./container-record.js";
import type { ExitTracker } from "./exit-tracker.js";
import type { ContainerStore } from "./container-store.js";
import type { NanoClock } from "./nanos.js";
import type { StreamUrls } from "./stream-urls.js";

/** What the container RPCs share: the base, the pods, the containers, their exits and events. */
export interface ContainerContext {
  readonly base: CriBase;
  readonly sandboxes: SandboxLookup;
  readonly store: ContainerStore;
  readonly events: ContainerEvents;
  readonly exits: ExitTracker;
  readonly clock: NanoClock;
  readonly urls: StreamUrls;
}

export function opContext(signal?: AbortSignal): OpContext {
  return criOpContext(signal);
}

/** The task runtime, or FailedPrecondition when berthd runs without one. */
export function taskRuntime(c: ContainerContext): PlatformRuntime {
  const runtime = c.base.runtime;
  if (runtime === undefined) throw failedPrecondition("cri: no task runtime (io.containerd.runtime.v2.task) is loaded");
  return runtime;
}

export function snapshotterOf(c: ContainerContext, name: string): Snapshotter {
  const s = c.base.metadata.snapshotters.get(name);
  if (s === undefined) throw failedPrecondition(`cri: snapshotter "${name}" is not loaded`);
  return s;
}

/** Where a container's FIFOs live: under the state dir, which a reboot clears with them. */
export function containerIoDir(c: ContainerContext, id: string): string {
  return join(c.base.stateDir, "containers", id, "io");
}

/** The IO of `record` as start and recovery open it: its FIFOs, its CRI log, stdin as its config asks. */
export function containerIoOptions(c: ContainerContext, record: ContainerRecord, closeTaskStdin: () => Promise<void>): ContainerIoOptions {
  return {
    id: record.id,
    dir: containerIoDir(c, record.id),
    stdin: record.config.stdin,
    stdinOnce: record.config.stdinOnce,
    tty: record.config.tty,
    logPath: record.logPath,
    maxLineSize: c.base.config.maxContainerLogLineSize,
    clock: c.clock,
    closeTaskStdin,
  };
}

export function execIoParent(c: ContainerContext, id: string): string {
  return join(c.base.stateDir, "containers", id, "exec");
}
