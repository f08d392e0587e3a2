import type { criApi } from "@berth/api";
import type { MessageInitShape } from "@bufbuild/protobuf";

export type ContainerEventInit = MessageInitShape<typeof criApi.ContainerEventResponseSchema>;

/** How many events a slow GetContainerEvents client may fall behind before it misses some. */
const QUEUE_LIMIT = 1000;

/**
 * The container lifecycle events GetContainerEvents streams (created, started, stopped,
 * deleted). Every subscriber has its own bounded queue: a client that stops reading loses the
 * oldest events rather than stalling the runtime, as containerd's CRI drops them.
 */
export interface ContainerEvents {
  publish(event: ContainerEventInit): void;
  subscribe(signal: AbortSignal): AsyncIterable<ContainerEventInit>;
}

export function createContainerEvents(): ContainerEvents {
  const subscribers = new Set<{ queue: ContainerEventInit[]; wake: (() => void) | undefined }>();
  return {
    publish(event) {
      for (const s of subscribers) {
        if (s.queue.length >= QUEUE_LIMIT) s.queue.shift();
        s.queue.push(event);
        s.wake?.();
      }
    },
    async *subscribe(signal) {
      const sub: { queue: ContainerEventInit[]; wake: (() => void) | undefined } = { queue: [], wake: undefined };
      subscribers.add(sub);
      const onAbort = () => sub.wake?.();
      signal.addEventListener("abort", onAbort);
      try {
        while (!signal.aborted) {
          const next = sub.queue.shift();
          if (next !== undefined) {
            yield next;
            continue;
          }
          await new Promise<void>((resolve) => (sub.wake = resolve));
          sub.wake = undefined;
        }
      } finally {
        signal.removeEventListener("abort", onAbort);
        subscribers.delete(sub);
      }
    },
  };
}
