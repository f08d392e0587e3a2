import { eventPayloads, packAny } from "@berth/api";
import type { CollectionStats, Logger, Publisher } from "@berth/core";

/**
 * The images and snapshots a collection removed: what containerd's collector announces, as
 * /images/delete and /snapshot/remove in the removed object's namespace (it announces no
 * content, lease or ingest removals). A collector reports them as `removedObjects` beside its
 * stats (the lmdb metadata store does); one that does not simply gets no events.
 */
export interface RemovedObjects {
  readonly images: readonly { readonly namespace: string; readonly name: string }[];
  readonly snapshots: readonly { readonly namespace: string; readonly snapshotter: string; readonly key: string }[];
}

/** The removals `stats` reports, if its collector reports them. */
export function removedObjectsOf(stats: CollectionStats): RemovedObjects | undefined {
  const removed = (stats as CollectionStats & { readonly removedObjects?: unknown }).removedObjects;
  if (typeof removed !== "object" || removed === null) return undefined;
  const { images, snapshots } = removed as Partial<RemovedObjects>;
  return Array.isArray(images) && Array.isArray(snapshots) ? { images, snapshots } : undefined;
}

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
