import { createHash, type Hash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";

export const CHUNK_SIZE = 1 << 20;

/**
 * A sha256 over the first `length` bytes of a file (all of it when undefined), and how many
 * bytes that was. Used when a writer resumes or truncates: the in-memory hash state of the
 * previous writer is gone, so the bytes on disk are read again.
 */
export async function hashFile(fh: FileHandle, length?: number): Promise<{ hash: Hash; size: number }> {
  const hash = createHash("sha256");
  const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
  let size = 0;
  for (;;) {
    const want = length === undefined ? CHUNK_SIZE : Math.min(CHUNK_SIZE, length - size);
    if (want <= 0) break;
    const { bytesRead } = await fh.read(buffer, 0, want, size);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    size += bytesRead;
  }
  return { hash, size };
}

export const hexDigest = (hash: Hash): string => hash.copy().digest("hex");
