import { constants } from "node:os";
import { isNotFound } from "@berth/core";
import { opContext, taskRuntime, type ContainerContext } from "./container-context.js";
import type { ContainerEntry } from "./container-store.js";

/**
 * Stops a running container: its image's stop signal, then SIGKILL once `timeoutSeconds` passed
 * (at once for 0), and waits until the exit was recorded. Nothing to do for a container that
 * is not running (StopContainer is idempotent).
 */
export async function stopContainerEntry(c: ContainerContext, entry: ContainerEntry, timeoutSeconds: number, signal?: AbortSignal): Promise<void> {
  const { record } = entry;
  if (record.status.state !== "running" && record.status.state !== "unknown") return;
  const runtime = taskRuntime(c);
  let task;
  try {
    task = await runtime.get(opContext(signal), record.id);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    // The task is gone without an exit seen (the shim died): record one so the state settles.
    await c.exits.recordExit(entry, { status: 255, exitedAt: new Date() });
    return;
  }
  const exited = c.exits.exited(record.id);
  const kill = async (sig: number) => {
    try {
      await task.kill(sig, false, signal);
    } catch (err) {
      // Already gone: its exit is on its way.
      if (!isNotFound(err) && !/not running|process already finished/i.test((err as Error).message)) throw err;
    }
  };
  if (timeoutSeconds > 0) {
    await kill(record.stopSignal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutSeconds * 1000)))]);
    clearTimeout(timer);
    if (!timedOut) return;
  }
  await kill(constants.signals.SIGKILL);
  await abortable(exited, signal);
}

function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e as Error);
      },
    );
  });
}
