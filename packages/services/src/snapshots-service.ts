import { eventPayloads, snapshotsApi } from "@berth/api";
import {
  bindService,
  invalidArgument,
  type GrpcService,
  type MetadataStore,
  type Publisher,
  type Snapshotter,
} from "@berth/core";
import { mountsToWire, snapshotInfoToWire, snapshotUpdateFromWire, usageToWire, type SnapshotInfoOut } from "@berth/wire";
import { checkFilters, maskPaths, opContext, publishEvent, required } from "./edge.js";

/** Infos per ListSnapshotsResponse, as containerd batches them. */
export const SNAPSHOT_LIST_BATCH = 100;

/**
 * containerd.services.snapshots.v1.Snapshots over the metadata store's namespaced
 * snapshotters, chosen per request by name. Publishes /snapshot/prepare (Prepare, not View, as
 * containerd), /snapshot/commit and /snapshot/remove in the request's namespace.
 */
export function createSnapshotsService(metadata: Pick<MetadataStore, "snapshotters">, publisher: Publisher): GrpcService {
  // containerd's words, which clients may match on.
  function snapshotterOf(name: string): Snapshotter {
    if (name === "") throw invalidArgument("snapshotter argument missing");
    const snapshotter = metadata.snapshotters.get(name);
    if (!snapshotter) throw invalidArgument(`snapshotter not loaded: ${name}`);
    return snapshotter;
  }

  return {
    bindings: [
      bindService(snapshotsApi.Snapshots, {
        async prepare(req, ctx) {
          const sn = snapshotterOf(req.snapshotter);
          const op = opContext(ctx);
          const mounts = await sn.prepare(op, req.key, req.parent, { labels: { ...req.labels } });
          await publishEvent(publisher, op.namespace, "/snapshot/prepare", eventPayloads.SnapshotPrepareSchema, {
            key: req.key,
            parent: req.parent,
            snapshotter: req.snapshotter,
          });
          return { mounts: mountsToWire(mounts) };
        },

        async view(req, ctx) {
          const sn = snapshotterOf(req.snapshotter);
          const mounts = await sn.view(opContext(ctx), req.key, req.parent, { labels: { ...req.labels } });
          return { mounts: mountsToWire(mounts) };
        },

        async mounts(req, ctx) {
          const sn = snapshotterOf(req.snapshotter);
          return { mounts: mountsToWire(await sn.mounts(opContext(ctx), req.key)) };
        },

        async commit(req, ctx) {
          const sn = snapshotterOf(req.snapshotter);
          const op = opContext(ctx);
          // A parent here is containerd 2's rebase at commit (snapshotters with the "rebase" capability).
          await sn.commit(op, req.name, req.key, { labels: { ...req.labels }, parent: req.parent });
          await publishEvent(publisher, op.namespace, "/snapshot/commit", eventPayloads.SnapshotCommitSchema, {
            key: req.key,
            name: req.name,
            snapshotter: req.snapshotter,
          });
          return {};
        },

        async remove(req, ctx) {
          const sn = snapshotterOf(req.snapshotter);
          const op = opContext(ctx);
          await sn.remove(op, req.key);
          await publishEvent(publisher, op.namespace, "/snapshot/remove", eventPayloads.SnapshotRemoveSchema, {
            key: req.key,
            snapshotter: req.snapshotter,
          });
          return {};
        },

        async stat(req, ctx) {
          const sn = snapshotterOf(req.snapshotter);
          return { info: snapshotInfoToWire(await sn.stat(opContext(ctx), req.key)) };
        },

        async update(req, ctx) {
          const sn = snapshotterOf(req.snapshotter);
          const info = snapshotUpdateFromWire(required(req.info, "info"));
          const updated = await sn.update(opContext(ctx), info, maskPaths(req.updateMask));
          return { info: snapshotInfoToWire(updated) };
        },

        async *list(req, ctx) {
          const sn = snapshotterOf(req.snapshotter);
          const op = opContext(ctx);
          let batch: SnapshotInfoOut[] = [];
          for await (const info of sn.walk(op, checkFilters(req.filters))) {
            batch.push(snapshotInfoToWire(info));
            if (batch.length >= SNAPSHOT_LIST_BATCH) {
              yield { info: batch };
              batch = [];
            }
          }
          if (batch.length > 0) yield { info: batch };
        },

        async usage(req, ctx) {
          const sn = snapshotterOf(req.snapshotter);
          return usageToWire(await sn.usage(opContext(ctx), req.key));
        },

        async cleanup(req, ctx) {
          const sn = snapshotterOf(req.snapshotter);
          await sn.cleanup(opContext(ctx));
          return {};
        },
      }),
    ],
  };
}
