import { eventPayloads, packAny } from "@berth/api";
import type { Logger, Publisher, RemovedObjects } from "@berth/core";

/**
 * Publishes one event per removed image and snapshot. A failed publish is logged and skipped:
 * the removals have happened whether anyone hears of them or not (containerd logs them too).
 */
export async function publishRemovals(publisher: Publisher, removed: RemovedObjects, log: Logger): Promise<void> {
  const sends = [
    ...removed.images.map((i) => ({
      namespace: i.namespace,
      topic: "/images/delete",
      event: packAny(eventPayloads.ImageDeleteSchema, { name: i.name }),
    })),
    ...removed.snapshots.map((s) => ({
      namespace: s.namespace,
      topic: "/snapshot/remove",
      event: packAny(eventPayloads.SnapshotRemoveSchema, { key: s.key, snapshotter: s.snapshotter }),
    })),
  ];
  for (const { namespace, topic, event } of sends) {
    try {
      await publisher.publish(namespace, topic, event);
    } catch (err) {
      log.debug("publishing a garbage collection event failed", { topic, namespace, error: (err as Error).message });
    }
  }
}
