import { isNotFound, type OpContext, type PlatformRuntime, type ProcessIO } from "@berth/core";

/** The pause process reads nothing and writes nothing. */
export const NULL_IO: ProcessIO = { stdin: "", stdout: "", stderr: "", terminal: false };

const SIGKILL = 9;

/**
 * Kills the pod's pause task (if it still runs) and deletes it, so nothing of the runtime is
 * left: containerd's StopPodSandbox kills with SIGKILL at once, as the pause process holds no
 * state worth a graceful stop. Idempotent: a task that is gone is fine.
 */
export async function killAndDeletePauseTask(runtime: PlatformRuntime, ctx: OpContext, id: string): Promise<void> {
  let task;
  try {
    task = await runtime.get(ctx, id);
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  const state = await task.state(ctx.signal).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  if (state !== undefined && state.status !== "stopped") {
    await task.kill(SIGKILL, true, ctx.signal).catch((err: unknown) => {
      // Exited between the state check and the kill.
      if (!isNotFound(err)) throw err;
    });
    await task.wait(ctx.signal);
  }
  await runtime.delete(ctx, id).catch((err: unknown) => {
    if (!isNotFound(err)) throw err;
  });
}
