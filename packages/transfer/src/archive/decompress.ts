import { pipeline, type Duplex } from "node:stream";
import { createGunzip, createZstdDecompress } from "node:zlib";

const CHUNK = 1 << 20;

/**
 * The stream uncompressed when it starts with gzip's or zstd's magic number, as is otherwise
 * (containerd accepts `ctr export | gzip` archives the same way).
 */
export async function* decompressed(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const rest = (async function* () {
    yield first.value;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  })();
  const decompressor = decompressorFor(first.value);
  if (decompressor === undefined) return yield* rest;
  // pipeline destroys the decompressor with the source's error, which then ends this loop.
  pipeline(rest, decompressor, () => undefined);
  yield* decompressor as AsyncIterable<Uint8Array>;
}

function decompressorFor(head: Uint8Array): Duplex | undefined {
  if (head[0] === 0x1f && head[1] === 0x8b) return createGunzip({ chunkSize: CHUNK });
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return createZstdDecompress({ chunkSize: CHUNK } as object);
  return undefined;
}
