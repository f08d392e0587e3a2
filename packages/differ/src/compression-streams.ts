import { constants, createGunzip, createGzip, createZstdCompress, createZstdDecompress } from "node:zlib";
import type { Transform } from "node:stream";
import type { Compression } from "./media-types.js";

/**
 * 1 MiB output chunks instead of zlib's 16 KiB: gunzip runs about 3.5x faster here, and the
 * applier makes fewer, larger writes. A readable buffer of a few chunks lets the thread pool
 * decompress ahead while the main thread writes files.
 */
const CHUNK = 1024 * 1024;
const READ_AHEAD = 4 * CHUNK;

export function decompressor(c: Compression): Transform | undefined {
  switch (c) {
    case "none":
      return undefined;
    case "gzip":
      return createGunzip({ chunkSize: CHUNK, readableHighWaterMark: READ_AHEAD } as object);
    case "zstd":
      return createZstdDecompress({ chunkSize: CHUNK, readableHighWaterMark: READ_AHEAD } as object);
  }
}

/** gzip at `level` (1 fastest … 9 smallest), or zstd at its default level. */
export function compressor(c: Compression, level: number): Transform | undefined {
  switch (c) {
    case "none":
      return undefined;
    case "gzip":
      return createGzip({ level, chunkSize: CHUNK });
    case "zstd":
      return createZstdCompress({ chunkSize: CHUNK, params: { [constants.ZSTD_c_compressionLevel]: 3 } });
  }
}
