import type { ContentStore, MetadataStore, Publisher, Snapshotter } from "@berth/core";
import { createContentService, createSnapshotsService } from "@berth/services";
import { serveBindings, type ServeOptions, type SocketServer } from "./serve-bindings.js";

/** A proxy plugin publishes no events: the daemon that calls it publishes its own. */
const NO_EVENTS: Publisher = { publish: async () => undefined };

/**
 * Every snapshotter name answers with the one served: clients put the name they know it by in
 * each request (containerd's proxy sends its [proxy_plugins] name), and one server serves one.
 */
class EveryName extends Map<string, Snapshotter> {
  constructor(readonly snapshotter: Snapshotter) {
    super();
  }
  override get(): Snapshotter {
    return this.snapshotter;
  }
  override has(): boolean {
    return true;
  }
}

function anyName(snapshotter: Snapshotter): Pick<MetadataStore, "snapshotters"> {
  return { snapshotters: new EveryName(snapshotter) };
}

/**
 * Serves `snapshotter` as containerd.services.snapshots.v1.Snapshots on the UNIX socket
 * `opts.address`: what berthd's and containerd's `[proxy_plugins.<name>]` (type "snapshot")
 * dial. The wire behaviour is berthd's own Snapshots service; the namespace a request carries
 * reaches the snapshotter in its OpContext.
 */
export async function serveSnapshotter(snapshotter: Snapshotter, opts: ServeOptions): Promise<SocketServer> {
  return serveBindings(createSnapshotsService(anyName(snapshotter), NO_EVENTS).bindings, opts);
}

/** Serves `store` as containerd.services.content.v1.Content on `opts.address` (proxy type "content"). */
export async function serveContentStore(store: ContentStore, opts: ServeOptions): Promise<SocketServer> {
  return serveBindings(createContentService({ content: store }, NO_EVENTS).bindings, opts);
}
