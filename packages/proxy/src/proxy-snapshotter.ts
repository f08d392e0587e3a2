import { snapshotsApi } from "@berth/api";
import type { Mount, OpContext, SnapshotInfo, SnapshotOptions, Snapshotter, SnapshotUsage } from "@berth/core";
import { callOptions, nameProxy, remote, type ProxyConnection } from "./proxy-connection.js";
import { mountsFromWire, snapshotInfoFromWire, updateMaskToWire, usageFromWire } from "@berth/wire";
import { answered } from "./answered.js";

/**
 * A Snapshotter served by another process as containerd.services.snapshots.v1.Snapshots.
 * Every request names the snapshotter `name` (as containerd's proxy does; most servers serve
 * one and ignore it) and carries the caller's namespace. Errors come back as the server's
 * errdefs classes; a dead proxy is Unavailable.
 */
export function createProxySnapshotter(conn: ProxyConnection, name: string): Snapshotter {
  const client = conn.service(snapshotsApi.Snapshots);
  const call = <T>(fn: () => Promise<T>) => remote(name, conn.target, fn);
  const labelsOf = (opts: SnapshotOptions | undefined) => ({ ...opts?.labels });
  return {
    stat: (ctx, key) => call(async () => snapshotInfoFromWire(answered((await client.stat({ snapshotter: name, key }, callOptions(ctx))).info, "a snapshot info"))),
    update: (ctx, info, fieldpaths) =>
      call(async () => {
        const req = { snapshotter: name, info: { name: info.name, labels: { ...info.labels } }, updateMask: updateMaskToWire(fieldpaths) };
        return snapshotInfoFromWire(answered((await client.update(req, callOptions(ctx))).info, "a snapshot info"));
      }),
    usage: (ctx, key) =>
      call(async (): Promise<SnapshotUsage> => usageFromWire(await client.usage({ snapshotter: name, key }, callOptions(ctx)))),
    mounts: (ctx, key) => call(async () => mountsFromWire((await client.mounts({ snapshotter: name, key }, callOptions(ctx))).mounts)),
    prepare: (ctx, key, parent, opts) =>
      call(async (): Promise<Mount[]> => mountsFromWire((await client.prepare({ snapshotter: name, key, parent, labels: labelsOf(opts) }, callOptions(ctx))).mounts)),
    view: (ctx, key, parent, opts) =>
      call(async (): Promise<Mount[]> => mountsFromWire((await client.view({ snapshotter: name, key, parent, labels: labelsOf(opts) }, callOptions(ctx))).mounts)),
    commit: (ctx, commitName, key, opts) =>
      call(async () => {
        await client.commit({ snapshotter: name, name: commitName, key, labels: labelsOf(opts), parent: opts?.parent ?? "" }, callOptions(ctx));
      }),
    remove: (ctx, key) =>
      call(async () => {
        await client.remove({ snapshotter: name, key }, callOptions(ctx));
      }),
    walk: (ctx, filters) => walk(ctx, filters),
    cleanup: (ctx) =>
      call(async () => {
        await client.cleanup({ snapshotter: name }, callOptions(ctx));
      }),
    // The connection belongs to whoever dialled it.
    close: async () => undefined,
  };

  async function* walk(ctx: OpContext, filters: readonly string[]): AsyncIterable<SnapshotInfo> {
    try {
      for await (const batch of client.list({ snapshotter: name, filters: [...filters] }, callOptions(ctx))) {
        for (const info of batch.info) yield snapshotInfoFromWire(info);
      }
    } catch (err) {
      throw nameProxy(name, conn.target, err);
    }
  }
}
