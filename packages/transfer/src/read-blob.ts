import { invalidArgument, type ContentStore, type Descriptor, type OpContext } from "@berth/core";
import { MAX_MANIFEST_BYTES } from "@berth/image-spec";

/** Reads a small blob (manifest, index, config) whole; refuses anything over the manifest limit. */
export async function readSmallBlob(content: ContentStore, ctx: OpContext, desc: Descriptor): Promise<Buffer> {
  if (desc.size > MAX_MANIFEST_BYTES) {
    throw invalidArgument(`${desc.mediaType} ${desc.digest} is ${desc.size} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`);
  }
  const chunks: Uint8Array[] = [];
  for await (const chunk of content.read(ctx, desc.digest)) chunks.push(chunk);
  return Buffer.concat(chunks);
}
