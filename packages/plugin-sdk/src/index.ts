/**
 * @berth/plugin-sdk: for authors of snapshotters and content stores. One call serves any
 * implementation of core's Snapshotter (or ContentStore) as containerd's Snapshots (or Content)
 * gRPC service on a UNIX socket, which berthd and containerd load as a proxy plugin. Test it
 * with core's snapshotterConformance() through @berth/proxy's client.
 */
export { serveSnapshotter, serveContentStore } from "./serve-snapshotter.js";
export { serveBindings, type ServeOptions, type SocketServer } from "./serve-bindings.js";
