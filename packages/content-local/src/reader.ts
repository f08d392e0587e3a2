import { open, type FileHandle } from "node:fs/promises";
import { dataLoss, invalidArgument, notFound, outOfRange, type ReadOptions } from "@berth/core";
import { CHUNK_SIZE } from "./hashing.js";
import { isErrno } from "./fs-util.js";

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
  let fh: FileHandle;
  try {
    fh = await open(path, "r");
  } catch (err) {
    if (isErrno(err, "ENOENT")) throw notFound(`content ${digest}`);
    throw err;
  }
  try {
    const total = (await fh.stat()).size;
    if (offset > total) throw outOfRange(`read offset ${offset} is beyond the end of ${digest} (${total} bytes)`);
    const end = size > 0 ? Math.min(total, offset + size) : total;
    for (let at = offset; at < end; ) {
      signal?.throwIfAborted();
      const want = Math.min(CHUNK_SIZE, end - at);
      const chunk = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(chunk, 0, want, at);
      // Blobs never change once committed; a short file means the store was tampered with.
      if (bytesRead === 0) throw dataLoss(`${digest} ended at ${at} bytes, expected ${total}`);
      at += bytesRead;
      yield bytesRead === want ? chunk : chunk.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}
