import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { ContentStore, Descriptor, OpContext } from "@berth/core";
import { createLocalContentStore } from "@berth/content-local";
import { tempDir } from "./temp.js";

export const ctx: OpContext = { namespace: "default" };

export const sha256 = (data: Uint8Array): string => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/** A real local content store in a temp dir. */
export async function newContentStore(): Promise<ContentStore> {
  return createLocalContentStore(await tempDir("berth-differ-content-"));
}

/** Stores `data` as a blob and returns its descriptor. */
export async function storeBlob(store: ContentStore, data: Buffer, mediaType: string, labels?: Record<string, string>): Promise<Descriptor> {
  const digest = sha256(data);
  const w = await store.writer(ctx, { ref: `test-${digest}`, total: data.length, expected: digest });
  await w.write(data);
  await w.commit(data.length, digest, labels);
  return { mediaType, digest, size: data.length };
}

/** Stores a file (a fixture layer) as a blob, streaming. */
export async function storeFile(store: ContentStore, path: string, desc: Descriptor, labels?: Record<string, string>): Promise<Descriptor> {
  const w = await store.writer(ctx, { ref: `test-${desc.digest}`, total: desc.size, expected: desc.digest });
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) await w.write(chunk as Buffer);
  await w.commit(desc.size, desc.digest, labels);
  return desc;
}

export async function readBlob(store: ContentStore, digest: string): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of store.read(ctx, digest)) parts.push(chunk);
  return Buffer.concat(parts);
}
