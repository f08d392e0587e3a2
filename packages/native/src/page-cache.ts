import { binding } from "./binding.js";
import { systemError } from "./system-error.js";

/**
 * Writes `length` bytes of `fd` from `offset` out to disk (sync_file_range: data only, no
 * metadata, not a durability point) and drops them from the page cache, on the thread pool.
 * For data written once and rarely read soon (a blob behind its unpack): the pages go back to
 * the kernel for the next writes to reuse, instead of the cache growing into memory not yet
 * touched. Reads of the range afterwards come from disk. `fd` must stay open until it settles.
 */
export async function dropWrittenPages(fd: number, offset: number, length: number): Promise<void> {
  const result = await binding.dropWrittenPages(fd, offset, length);
  if (result < 0) throw systemError(result, "sync_file_range");
}
