import { close, closeSync, fstatSync, openSync, read, readSync } from "node:fs";
import { promisify } from "node:util";
import { dataLoss, invalidArgument, notFound, outOfRange, type ReadOptions } from "@berth/core";
import { CHUNK_SIZE } from "./hashing.js";
import { isErrno } from "./fs-util.js";

/**
 * Reads up to this size are served synchronously. Manifests, indexes and configs — what every
 * container create reads — are a few KiB and sit in the page cache: a synchronous read costs
 * microseconds, while the async path pays four threadpool round trips (open, stat, read, close)
 * that queue behind layer I/O and made Content/Read ten times slower than Content/Info.
 */
const SYNC_READ_LIMIT = 64 * 1024;

/**
 * A blob's bytes from `offset`, `size` of them (0: to the end; past the end is clamped, as
 * containerd's Read does), in fresh chunks of up to 1 MiB: the consumer may keep each chunk,
 * and memory stays flat however large the blob.
 */
export async function* readBlob(
  path: string,
  digest: string,
  opts: ReadOptions | undefined,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array> {
  const offset = opts?.offset ?? 0;
  const size = opts?.size ?? 0;
  if (!Number.isSafeInteger(offset) || offset < 0) throw invalidArgument(`invalid read offset ${offset}`);
  if (!Number.isSafeInteger(size) || size < 0) throw invalidArgument(`invalid read size ${size}`);
  const fd = openBlob(path, digest);
  let total: number;
  try {
    total = fstatSync(fd).size;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  if (offset > total) {
    closeSync(fd);
    throw outOfRange(`read offset ${offset} is beyond the end of ${digest} (${total} bytes)`);
  }
  const end = size > 0 ? Math.min(total, offset + size) : total;
  if (end - offset <= SYNC_READ_LIMIT) {
    let chunk: Uint8Array;
    try {
      chunk = readRangeSync(fd, digest, offset, end, total);
    } finally {
      closeSync(fd);
    }
    if (chunk.length > 0) yield chunk;
    return;
  }
  yield* readChunks(fd, digest, offset, end, total, signal);
}

const readAsync = promisify(read);
const closeAsync = promisify(close);

/** Opens a blob by its path; the synchronous open is a dentry lookup, not disk I/O. */
function openBlob(path: string, digest: string): number {
  try {
    return openSync(path, "r");
  } catch (err) {
    if (isErrno(err, "ENOENT")) throw notFound(`content ${digest}`);
    throw err;
  }
}

function readRangeSync(fd: number, digest: string, offset: number, end: number, total: number): Uint8Array {
  const chunk = Buffer.allocUnsafe(end - offset);
  for (let filled = 0; filled < chunk.length; ) {
    const n = readSync(fd, chunk, filled, chunk.length - filled, offset + filled);
    if (n === 0) throw shortBlob(digest, offset + filled, total);
    filled += n;
  }
  return chunk;
}

async function* readChunks(
  fd: number,
  digest: string,
  offset: number,
  end: number,
  total: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array> {
  try {
    for (let at = offset; at < end; ) {
      signal?.throwIfAborted();
      const want = Math.min(CHUNK_SIZE, end - at);
      const chunk = Buffer.allocUnsafe(want);
      const { bytesRead } = await readAsync(fd, chunk, 0, want, at);
      if (bytesRead === 0) throw shortBlob(digest, at, total);
      at += bytesRead;
      yield bytesRead === want ? chunk : chunk.subarray(0, bytesRead);
    }
  } finally {
    await closeAsync(fd);
  }
}

/** Blobs never change once committed; a short file means the store was tampered with. */
function shortBlob(digest: string, at: number, total: number): Error {
  return dataLoss(`${digest} ended at ${at} bytes, expected ${total}`);
}
