import type { TarEntry } from "./tar-entry.js";
import { TarParser } from "./tar-parser.js";

export interface TarRecord {
  readonly entry: TarEntry;
  /** The entry's whole data (regular files); empty for other types. */
  readonly data: Buffer;
}

/**
 * Entries of an uncompressed tar stream with their data held in memory: for inspecting small
 * archives (tests, tools). The applier uses TarParser directly and never buffers file data.
 */
export async function* readTar(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<TarRecord> {
  const ready: TarRecord[] = [];
  let current: { entry: TarEntry; parts: Buffer[] } | undefined;
  const parser = new TarParser({
    entry: (entry) => {
      current = { entry, parts: [] };
    },
    data: (piece) => current!.parts.push(Buffer.from(piece)),
    end: () => {
      ready.push({ entry: current!.entry, data: Buffer.concat(current!.parts) });
      current = undefined;
    },
  });
  for await (const chunk of source) {
    parser.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    yield* ready.splice(0);
    if (parser.done) break;
  }
  parser.finish();
  yield* ready.splice(0);
}
