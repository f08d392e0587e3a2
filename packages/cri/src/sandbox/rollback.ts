import type { Logger } from "@berth/core";

/**
 * Undo steps gathered while a pod is being set up. When a later step fails, `run` undoes every
 * earlier one, newest first, so a failed RunPodSandbox leaves nothing behind (IP, netns,
 * mounts, snapshot, container, name). Each undo runs even when an earlier one failed.
 */
export interface Rollback {
  add(what: string, undo: () => Promise<void> | void): void;
  run(): Promise<void>;
}

export function createRollback(log: Logger): Rollback {
  const steps: { what: string; undo: () => Promise<void> | void }[] = [];
  return {
    add: (what, undo) => void steps.push({ what, undo }),
    async run() {
      for (const step of steps.splice(0).reverse()) {
        try {
          await step.undo();
        } catch (err) {
          log.warn("cri: rollback step failed", { step: step.what, error: String(err) });
        }
      }
    },
  };
}
