import { invalidArgument, notImplemented, failedPrecondition } from "@berth/core";
import { parseSpec } from "@berth/oci";
import type { CriBase } from "../cri-base.js";
import type { ContainerController } from "../runtime/container-controller.js";
import type { ContainerPart } from "../runtime/parts.js";
import type { SandboxLookup } from "../runtime/sandbox-controller.js";
import { opContext, type ContainerContext } from "./container-context.js";
import { imageOf } from "./container-event-publish.js";
import { createContainerEvents } from "./container-events.js";
import { containerStats } from "./container-stats.js";
import { createContainerStore } from "./container-store.js";
import { toContainer, toContainerStatus, verboseInfo } from "./convert-container.js";
import { createContainer } from "./create-container.js";
import { boundedCollector, runExec } from "./exec-process.js";
import { createExitTracker } from "./exit-tracker.js";
import { filterContainers } from "./list-containers.js";
import { createNanoClock } from "./nanos.js";
import { recoverContainers } from "./recover-containers.js";
import { removeContainerEntry } from "./remove-container.js";
import { startContainer, stateName } from "./start-container.js";
import { stopContainerEntry } from "./stop-container.js";
import { NO_STREAM_URLS, type StreamUrls } from "./stream-urls.js";
import { updateContainerResources } from "./update-container-resources.js";

/** ExecSync keeps at most this much of each output stream. */
const EXEC_SYNC_OUTPUT_LIMIT = 16 * 1024 * 1024;

/** The container part plus what the streaming handlers need from it. */
export interface ContainerPartWithStreams extends ContainerPart {
  /** The context the streaming handlers work in (exec, attach). */
  readonly context: ContainerContext;
}

/**
 * Containers in pods: every RPC of CONTAINER_METHODS over an in-memory store mirrored to disk,
 * tasks through the v2 runtime, FIFOs served by this daemon (CRI logs, attach, exec), exits
 * from task events and waits. `urls` makes the streaming server's URLs (Exec, Attach).
 */
export function createContainerPart(base: CriBase, sandboxes: SandboxLookup, urls: StreamUrls = NO_STREAM_URLS): ContainerPartWithStreams {
  const stop = new AbortController();
  const onBaseAbort = () => stop.abort();
  base.signal.addEventListener("abort", onBaseAbort, { once: true });
  // The tracker and the context refer to each other; the getter closes the loop.
  let context!: ContainerContext;
  const exits = createExitTracker(() => context, base.log, stop.signal);
  context = {
    base,
    sandboxes,
    store: createContainerStore(base.state.containerIds, base.rootDir),
    events: createContainerEvents(),
    exits,
    clock: createNanoClock(),
    urls,
  };
  const c = context;

  sandboxes.setContainerHooks({
    async stopAll(sandboxId, signal) {
      await Promise.all(c.store.list().filter((e) => e.record.sandboxId === sandboxId).map((e) => stopContainerEntry(c, e, 0, signal)));
    },
    async removeAll(sandboxId, signal) {
      for (const e of c.store.list().filter((x) => x.record.sandboxId === sandboxId)) await removeContainerEntry(c, e, signal);
    },
  });

  const controller: ContainerController = {
    createContainer: (r, call) => createContainer(c, r, call),
    startContainer: (r, call) => startContainer(c, r, call),
    async stopContainer(r, call) {
      await stopContainerEntry(c, c.store.get(r.containerId), Number(r.timeout), call.signal);
      return {};
    },
    async removeContainer(r, call) {
      let entry;
      try {
        entry = c.store.get(r.containerId);
      } catch {
        return {}; // already gone: removal is idempotent
      }
      await removeContainerEntry(c, entry, call.signal);
      return {};
    },
    async listContainers(r) {
      const entries = filterContainers(c, r.filter);
      return { containers: await Promise.all(entries.map(async (e) => toContainer(e, await imageOf(c, e)))) };
    },
    async containerStatus(r) {
      const entry = c.store.get(r.containerId);
      const status = toContainerStatus(entry, await imageOf(c, entry));
      if (!r.verbose) return { status, info: {} };
      const record = await c.base.metadata.containers.get(opContext(), entry.record.id).catch(() => undefined);
      const spec = record?.spec ? parseSpec(Buffer.from(record.spec.value).toString("utf8")) : undefined;
      return { status, info: verboseInfo(entry, spec) };
    },
    async updateContainerResources(r, call) {
      await updateContainerResources(c, r, call);
      return {};
    },
    async reopenContainerLog(r) {
      const entry = c.store.get(r.containerId);
      if (entry.record.status.state !== "running" || entry.io === undefined) throw failedPrecondition("container is not running");
      await entry.io.reopenLog();
      return {};
    },
    async execSync(r, call) {
      const entry = c.store.get(r.containerId);
      const stdout = boundedCollector(EXEC_SYNC_OUTPUT_LIMIT);
      const stderr = boundedCollector(EXEC_SYNC_OUTPUT_LIMIT);
      const exitCode = await runExec(c, entry, { cmd: r.cmd, tty: false, stdout, stderr, timeoutMs: Number(r.timeout) * 1000, signal: call.signal });
      return { stdout: stdout.bytes(), stderr: stderr.bytes(), exitCode };
    },
    async exec(r) {
      const entry = c.store.get(r.containerId);
      if (entry.record.status.state !== "running") throw failedPrecondition(`container ${entry.record.id} is in ${stateName(entry.record.status.state)} state`);
      if (r.cmd.length === 0) throw invalidArgument("exec: cmd must not be empty");
      return { url: c.urls.exec({ containerId: entry.record.id, cmd: r.cmd, tty: r.tty, stdin: r.stdin, stdout: r.stdout, stderr: r.stderr }) };
    },
    async attach(r) {
      const entry = c.store.get(r.containerId);
      if (entry.record.status.state !== "running") throw failedPrecondition(`container ${entry.record.id} is in ${stateName(entry.record.status.state)} state`);
      return { url: c.urls.attach({ containerId: entry.record.id, tty: r.tty, stdin: r.stdin, stdout: r.stdout, stderr: r.stderr }) };
    },
    async containerStats(r, call) {
      return { stats: await containerStats(c, c.store.get(r.containerId), call.signal) };
    },
    async listContainerStats(r, call) {
      const entries = filterContainers(c, r.filter).filter((e) => e.record.status.state === "running");
      return { stats: await Promise.all(entries.map((e) => containerStats(c, e, call.signal))) };
    },
    checkpointContainer: async () => {
      throw notImplemented("method CheckpointContainer not implemented");
    },
    getContainerEvents: (_r, call) => c.events.subscribe(call.signal),
  };

  return {
    controller,
    context: c,
    async recover() {
      await recoverContainers(c, base.log);
      exits.follow(c, stop.signal);
    },
    async close() {
      stop.abort();
      base.signal.removeEventListener("abort", onBaseAbort);
      await Promise.all(c.store.list().map((e) => e.io?.close()));
    },
  };
}

