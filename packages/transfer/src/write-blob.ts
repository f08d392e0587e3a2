import { createHash } from "node:crypto";
import { isAlreadyExists, type ContentStore, type Descriptor, type OpContext } from "@berth/core";

/** Stores `bytes` under their digest (a blob already there counts as written). */
export async function writeBlob(content: ContentStore, ctx: OpContext, mediaType: string, bytes: Uint8Array): Promise<Descriptor> {
  const desc: Descriptor = { mediaType, digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`, size: bytes.byteLength };
  let writer;
  try {
    writer = await content.writer(ctx, { ref: `write-${desc.digest}`, total: desc.size, expected: desc.digest });
  } catch (err) {
    if (isAlreadyExists(err)) return desc;
    throw err;
  }
  try {
    // A writer may start complete (the blob is shared from another namespace) or hold a leftover.
    if ((await writer.status()).offset !== desc.size) {
      await writer.truncate(0);
      await writer.write(bytes);
    }
    await writer.commit(desc.size, desc.digest);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  return desc;
}

/** Stores a JSON document (a manifest or an index Berth composed) and returns its descriptor. */
export function writeJsonBlob(content: ContentStore, ctx: OpContext, mediaType: string, value: unknown): Promise<Descriptor> {
  return writeBlob(content, ctx, mediaType, Buffer.from(JSON.stringify(value), "utf8"));
}
