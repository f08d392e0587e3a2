import type { Duplex, Writable } from "node:stream";
import type { Logger } from "@berth/core";
import { endAndFlush, writeAndWait } from "../stream-util.js";
import type { StreamingHandlers } from "../types.js";

/**
 * Runs the handler for one forwarded connection and finishes its streams the kubelet's way:
 * on success both end; on a broken pipe or reset both are reset; on any other failure the
 * error text goes to the client on the error stream first.
 */
export async function forwardOne(
  handlers: StreamingHandlers,
  podSandboxId: string,
  port: number,
  data: Duplex,
  error: Writable,
  sessionSignal: AbortSignal,
  log: Logger,
): Promise<void> {
  const local = new AbortController();
  const onClose = (): void => local.abort(new Error("port-forward stream closed"));
  data.once("close", onClose);
  const signal = AbortSignal.any([sessionSignal, local.signal]);
  try {
    await handlers.portForward(podSandboxId, port, data, signal);
    await Promise.all([endAndFlush(data), endAndFlush(error)]);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code === "EPIPE" || code === "ECONNRESET") {
      data.destroy();
      error.destroy();
      return;
    }
    const message = `error forwarding port ${port} to pod ${podSandboxId}: ${(err as Error)?.message ?? String(err)}`;
    log.info("streaming: port-forward failed", { podSandboxId, port, error: message });
    if (!error.destroyed && !error.writableEnded) await writeAndWait(error, Buffer.from(message));
    await Promise.all([endAndFlush(data), endAndFlush(error)]);
  } finally {
    data.off("close", onClose);
  }
}
