import { setTimeout as sleep } from "node:timers/promises";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { ttrpcEventsApi } from "@berth/api";
import type { Logger } from "@berth/core";
import { createTtrpcClient, type TtrpcClient } from "@berth/ttrpc";
import type { TaskEvent } from "./task-events.js";

/**
 * Sends the shim's events to the daemon's ttrpc socket (TTRPC_ADDRESS) through
 * containerd.services.events.ttrpc.v1.Events/Forward, one at a time and in the order they were
 * published, which clients rely on (a task's exit before its delete). A failed send is retried
 * on a fresh connection — the daemon may be restarting — then dropped after a few tries, as
 * containerd's shims do.
 */
export interface EventPublisher {
  publish(event: TaskEvent): void;
  /** Resolves once every event published so far was sent or dropped (or `signal` aborts). */
  flush(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

const MAX_ATTEMPTS = 5;
const FORWARD_TIMEOUT_MS = 5_000;

export function createEventPublisher(options: { address: string; namespace: string; log: Logger }): EventPublisher {
  const { address, namespace, log } = options;
  const queue: { event: TaskEvent; timestamp: ReturnType<typeof timestampNow> }[] = [];
  let client: TtrpcClient<typeof ttrpcEventsApi.Events> | undefined;
  let sending: Promise<void> | undefined;
  let closed = false;

  const connection = () => (client ??= createTtrpcClient(address, ttrpcEventsApi.Events, { namespace, timeoutMs: FORWARD_TIMEOUT_MS }));
  const dropConnection = () => {
    const old = client;
    client = undefined;
    void old?.close();
  };

  const sendAll = async () => {
    while (queue.length > 0 && !closed) {
      const item = queue[0]!;
      for (let attempt = 1; ; attempt++) {
        try {
          await connection().forward({ envelope: { timestamp: item.timestamp, namespace, topic: item.event.topic, event: item.event.event } });
          break;
        } catch (err) {
          dropConnection();
          if (attempt >= MAX_ATTEMPTS || closed) {
            log.error("dropping event after failed sends", { topic: item.event.topic, error: err });
            break;
          }
          log.warn("forward event failed; retrying", { topic: item.event.topic, attempt, error: err });
          await sleep(attempt * 1000, undefined, { ref: false });
        }
      }
      queue.shift();
    }
  };

  const kick = () => {
    sending ??= sendAll().finally(() => {
      sending = undefined;
      if (queue.length > 0 && !closed) kick();
    });
  };

  return {
    publish(event) {
      if (closed) return;
      if (address === "") {
        log.debug("no TTRPC_ADDRESS: event not sent", { topic: event.topic });
        return;
      }
      queue.push({ event, timestamp: timestampNow() });
      kick();
    },
    async flush(signal) {
      const aborted = signal ? new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true })) : undefined;
      while (sending && !signal?.aborted) await (aborted ? Promise.race([sending, aborted]) : sending);
    },
    async close() {
      closed = true;
      dropConnection();
    },
  };
}
