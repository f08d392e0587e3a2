import { contentApi } from "@berth/api";
import type { ContentInfo, ContentStore, OpContext, ReadOptions } from "@berth/core";
import { callOptions, nameProxy, remote, type ProxyConnection } from "./proxy-connection.js";
import { openProxyWriter } from "./proxy-content-writer.js";
import { contentInfoFromWire, ingestStatusFromWire, updateMaskToWire } from "@berth/wire";
import { answered } from "./answered.js";

/**
 * A ContentStore served by another process as containerd.services.content.v1.Content; the
 * caller's namespace and lease travel with every request.
 */
export function createProxyContentStore(conn: ProxyConnection, name: string): ContentStore {
  const client = conn.service(contentApi.Content);
  const call = <T>(fn: () => Promise<T>) => remote(name, conn.target, fn);
  const info = (ctx: OpContext, digest: string) => call(async () => contentInfoFromWire(answered((await client.info({ digest }, callOptions(ctx))).info, "a content info")));

  async function* walk(ctx: OpContext, filters: readonly string[]): AsyncIterable<ContentInfo> {
    try {
      for await (const batch of client.list({ filters: [...filters] }, callOptions(ctx))) {
        for (const i of batch.info) yield contentInfoFromWire(i);
      }
    } catch (err) {
      throw nameProxy(name, conn.target, err);
    }
  }

  async function* read(ctx: OpContext, digest: string, opts: ReadOptions = {}): AsyncIterable<Uint8Array> {
    try {
      const req = { digest, offset: BigInt(opts.offset ?? 0), size: BigInt(opts.size ?? 0) };
      for await (const chunk of client.read(req, callOptions(ctx))) yield chunk.data;
    } catch (err) {
      throw nameProxy(name, conn.target, err);
    }
  }

  return {
    info,
    update: (ctx, i, fieldpaths) =>
      call(async () => contentInfoFromWire(answered((await client.update({ info: { digest: i.digest, labels: { ...i.labels } }, updateMask: updateMaskToWire(fieldpaths) }, callOptions(ctx))).info, "a content info"))),
    walk,
    delete: (ctx, digest) =>
      call(async () => {
        await client.delete({ digest }, callOptions(ctx));
      }),
    read,
    writer: (ctx, opts) => openProxyWriter(conn, name, ctx, opts, (digest) => info(ctx, digest)),
    status: (ctx, ref) => call(async () => ingestStatusFromWire(answered((await client.status({ ref }, callOptions(ctx))).status, "an ingest status"))),
    listStatuses: (ctx, filters) => call(async () => (await client.listStatuses({ filters: [...filters] }, callOptions(ctx))).statuses.map(ingestStatusFromWire)),
    abort: (ctx, ref) =>
      call(async () => {
        await client.abort({ ref }, callOptions(ctx));
      }),
  };
}
