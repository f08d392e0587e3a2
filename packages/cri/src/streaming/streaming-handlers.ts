import type { ContainerStreams, StreamingHandlers } from "@berth/cri-streaming";
import { failedPrecondition } from "@berth/core";
import type { Writable } from "node:stream";
import type { ContainerContext } from "../container/container-context.js";
import { runExec } from "../container/exec-process.js";
import type { OutputSink } from "../container/fifo-io.js";
import type { SandboxLookup } from "../runtime/sandbox-controller.js";
import { forwardToPodPort } from "./port-forward.js";

/** A client's writable as an exec's output sink; the server ends it, so this does not. */
function toSink(w: Writable | undefined): OutputSink | undefined {
  if (w === undefined) return undefined;
  return {
    data: (chunk) => {
      if (!w.destroyed && w.writable) w.write(chunk);
    },
    end: () => {},
  };
}

/**
 * What the streaming server runs for the CRI: exec in a container's task with the client's
 * streams and terminal sizes; attach to a container's running IO; port forwarding into a pod's
 * network namespace.
 */
export function createStreamingHandlers(containers: ContainerContext, sandboxes: SandboxLookup): StreamingHandlers {
  return {
    async exec(containerId, cmd, streams: ContainerStreams, signal) {
      const entry = containers.store.get(containerId);
      const exitCode = await runExec(containers, entry, {
        cmd,
        tty: streams.tty,
        stdin: streams.stdin,
        stdout: toSink(streams.stdout),
        stderr: toSink(streams.stderr),
        resize: streams.tty ? streams.resize : undefined,
        timeoutMs: 0,
        signal,
      });
      return { exitCode };
    },
    async attach(containerId, streams, signal) {
      const entry = containers.store.get(containerId);
      if (entry.record.status.state !== "running" || entry.io === undefined) throw failedPrecondition(`container ${containerId} is not running`);
      await entry.io.attach({ stdin: streams.stdin, stdout: streams.stdout, stderr: streams.stderr }, signal);
    },
    async portForward(podSandboxId, port, stream, signal) {
      const pod = sandboxes.sandbox(podSandboxId);
      if (pod.state !== "ready") throw failedPrecondition(`sandbox ${pod.id} is not ready`);
      await forwardToPodPort(pod.netnsPath, port, stream, signal);
    },
  };
}

/**
 * Handlers whose implementation is given after the server started: the server must exist
 * first (its address is in the URLs the container RPCs hand out).
 */
export function lateBoundHandlers(): { handlers: StreamingHandlers; bind(h: StreamingHandlers): void } {
  let target: StreamingHandlers | undefined;
  const get = () => {
    if (target === undefined) throw failedPrecondition("cri: streaming is not ready yet");
    return target;
  };
  return {
    handlers: {
      exec: (...a) => get().exec(...a),
      attach: (...a) => get().attach(...a),
      portForward: (...a) => get().portForward(...a),
    },
    bind: (h) => void (target = h),
  };
}
