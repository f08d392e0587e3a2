import { createHash, randomBytes } from "node:crypto";
import { pipeline } from "node:stream/promises";
import { classOf, type ContentInfo, type ContentStore, type ContentWriter, type OpContext } from "@berth/core";
import { compressor } from "../compression-streams.js";
import { LABEL_UNCOMPRESSED, type Compression } from "../media-types.js";

export interface LayerWriteOptions {
  readonly compression: Compression;
  readonly gzipLevel: number;
  readonly ref?: string | undefined;
  readonly labels?: Readonly<Record<string, string>> | undefined;
}

/**
 * Streams a tar through the compressor into a content ingest, digesting the uncompressed bytes
 * on the way, and commits the blob labelled with that digest (containerd.io/uncompressed).
 * A blob that already exists is fine: it gets the label if it lacks it. On failure the ingest
 * is aborted when this call chose its ref.
 */
export async function writeLayer(
  ctx: OpContext,
  content: ContentStore,
  tar: AsyncIterable<Buffer>,
  opts: LayerWriteOptions,
): Promise<ContentInfo> {
  const ref = opts.ref ?? `berth-diff-${Date.now()}-${randomBytes(6).toString("base64url")}`;
  const writer = await content.writer(ctx, { ref });
  let committed = false;
  try {
    if (opts.ref !== undefined && (await writer.status()).offset > 0) await writer.truncate(0);
    const uncompressed = createHash("sha256");
    async function* digesting(): AsyncGenerator<Buffer> {
      for await (const chunk of tar) {
        uncompressed.update(chunk);
        yield chunk;
      }
    }
    const store = async (chunks: AsyncIterable<Buffer>) => {
      for await (const chunk of chunks) await writer.write(chunk);
    };
    const compress = compressor(opts.compression, opts.gzipLevel);
    const signal = ctx.signal ? { signal: ctx.signal } : {};
    if (compress) await pipeline(digesting, compress, store, signal);
    else await pipeline(digesting, store, signal);

    const labels = { ...opts.labels, [LABEL_UNCOMPRESSED]: `sha256:${uncompressed.digest("hex")}` };
    const digest = writer.digest();
    committed = true; // commit releases the writer whatever happens
    try {
      return await writer.commit(0, digest, labels);
    } catch (err) {
      if (classOf(err) !== "AlreadyExists") throw err;
      await content.abort(ctx, ref).catch(() => undefined);
      return await ensureLabel(ctx, content, digest, labels[LABEL_UNCOMPRESSED]);
    }
  } catch (err) {
    if (!committed) await release(writer);
    if (opts.ref === undefined) await content.abort(ctx, ref).catch(() => undefined);
    throw err;
  }
}

async function ensureLabel(ctx: OpContext, content: ContentStore, digest: string, tarDigest: string): Promise<ContentInfo> {
  const info = await content.info(ctx, digest);
  if (info.labels[LABEL_UNCOMPRESSED] !== undefined) return info;
  return content.update(ctx, { digest, labels: { [LABEL_UNCOMPRESSED]: tarDigest } }, [`labels.${LABEL_UNCOMPRESSED}`]);
}

async function release(writer: ContentWriter): Promise<void> {
  await writer.close().catch(() => undefined);
}
