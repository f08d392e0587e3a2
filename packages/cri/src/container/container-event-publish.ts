import type { ContainerContext } from "./container-context.js";
import { opContext } from "./container-context.js";
import type { ContainerEntry } from "./container-store.js";
import { toContainerStatus } from "./convert-container.js";
import type { CriImage } from "../image/cri-image.js";

/** CONTAINER_{CREATED,STARTED,STOPPED,DELETED}_EVENT. */
export const ContainerEventType = { created: 0, started: 1, stopped: 2, deleted: 3 } as const;

/** Looks the container's image up by ID; undefined when it was removed meanwhile. */
export async function imageOf(c: ContainerContext, entry: ContainerEntry): Promise<CriImage | undefined> {
  return c.base.images.get(opContext(), entry.record.imageId).catch(() => undefined);
}

/** Publishes an event about `entry` with its status as it is now. */
export async function publishContainerEvent(c: ContainerContext, entry: ContainerEntry, type: (typeof ContainerEventType)[keyof typeof ContainerEventType]): Promise<void> {
  const status = toContainerStatus(entry, await imageOf(c, entry));
  c.events.publish({ containerId: entry.record.id, containerEventType: type, createdAt: c.clock.now(), containersStatuses: [status] });
}
