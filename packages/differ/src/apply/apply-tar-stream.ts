import { createHash } from "node:crypto";
import { pipeline } from "node:stream/promises";
import { dataLoss, isBerthError, notImplemented } from "@berth/core";
import { decompressor } from "../compression-streams.js";
import type { Compression } from "../media-types.js";
import { TarParser } from "../tar/tar-parser.js";
import { TarFormatError, TarUnsupportedError } from "../tar/ustar-fields.js";
import { ChunkPool } from "./chunk-pool.js";
import { LayerApplier, type LayerTarget } from "./layer-applier.js";
import { PooledGunzip } from "./pooled-gunzip.js";
import { currentUmask } from "./umask.js";

/** The uncompressed tar that was applied: its digest is the layer's diff ID. */
export interface AppliedTar {
  readonly digest: string;
  readonly size: number;
}

/**
 * File data handed to the thread pool and not yet written, at most: enough to keep the pool
 * busy while the main thread parses the next chunks, little enough to keep memory flat.
 */
const MAX_BYTES_IN_FLIGHT = 16 * 1024 * 1024;

/**
 * Gzip layers decompress into this many reused buffers of this size (Node's gunzip stream
 * allocates one per chunk: measured on `multi`, its 187 MB of fresh output buffers, beside the
 * input's own, set off seven major GCs and cost more CPU than the inflate). They bound the
 * read-ahead and, with the writes holding pieces of them, the bytes in flight.
 */
const GZIP_CHUNK = 1024 * 1024;
const GZIP_BUFFERS = 8;

/**
 * Decompresses `source`, applies the tar to `target` and digests the uncompressed bytes, in one
 * pass. Decompression runs on the thread pool ahead of the applier, and so do the writes of
 * larger file pieces; parsing, hashing and the metadata calls (open, chown, utimes…) stay
 * synchronous on the main thread. Backpressure bounds both the decompressed chunks and the
 * bytes being written. Bytes after the end-of-archive blocks are read and digested too, as
 * they are part of the diff ID.
 *
 * The chunks `source` yields must not be reused by it afterwards (Node's streams never do):
 * file data is written from views of the decompressed chunks.
 */
export async function applyTarStream(
  source: AsyncIterable<Uint8Array>,
  compression: Compression,
  target: LayerTarget,
  signal?: AbortSignal,
): Promise<AppliedTar> {
  const pool = compression === "gzip" ? new ChunkPool(GZIP_CHUNK, GZIP_BUFFERS) : undefined;
  const applier = new LayerApplier(target, currentUmask(), pool);
  const parser = new TarParser(applier);
  // The pooled gunzip digests its output on the thread pool; other streams are hashed here.
  const gunzip = pool ? new PooledGunzip(source, pool, signal) : undefined;
  const hash = gunzip ? undefined : createHash("sha256");
  let size = 0;
  const apply = async (chunks: AsyncIterable<Uint8Array>) => {
    for await (const piece of chunks) {
      const chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
      hash?.update(chunk);
      size += chunk.length;
      if (!parser.done) {
        const paused = parser.push(chunk);
        if (paused) await paused;
        applier.checkWrites();
      }
      pool?.release(chunk);
      if (applier.bytesInFlight > MAX_BYTES_IN_FLIGHT) await applier.writesBelow(MAX_BYTES_IN_FLIGHT / 2);
    }
    parser.finish();
    await applier.finish();
  };
  try {
    if (gunzip) {
      await apply(gunzip);
    } else {
      const inflate = decompressor(compression);
      if (inflate) await pipeline(source, inflate, apply, signal ? { signal } : {});
      else await pipeline(source, apply, signal ? { signal } : {});
    }
  } catch (err) {
    await applier.close();
    throw asLayerError(err, signal);
  }
  const digest = gunzip ? gunzip.sha256 : hash!.digest("hex");
  if (digest === undefined) throw new Error("gzip stream ended without a digest");
  return { digest: `sha256:${digest}`, size };
}

/**
 * Corrupt or truncated data is DataLoss, an unsupported tar feature NotImplemented; errors that
 * already carry a class keep it. After an abort, an AbortError whatever the step that noticed
 * it (as `pipeline` reports one), so callers see a cancellation, not the abort's reason.
 */
function asLayerError(err: unknown, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted && !(err instanceof Error && err.name === "AbortError")) {
    return Object.assign(new Error("The operation was aborted", { cause: signal.reason }), { name: "AbortError", code: "ABORT_ERR" });
  }
  if (isBerthError(err)) return err;
  if (err instanceof TarUnsupportedError) return notImplemented(err.message, err);
  if (err instanceof TarFormatError) return dataLoss(`invalid tar stream: ${err.message}`, err);
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && /^(Z_|ERR_ZSTD|ERR_ZLIB)/.test(code)) {
    return dataLoss(`corrupt compressed stream: ${(err as Error).message}`, err);
  }
  return err;
}
