import { contentApi } from "@berth/api";
import { createHash } from "node:crypto";
import { failedPrecondition, isAlreadyExists } from "@berth/core";
import type { CallOptions, ServiceClient } from "./service-client.js";

/** Manifests, indexes and configs are read whole; anything larger than this is refused. */
export const MAX_SMALL_BLOB_BYTES = 8 << 20;

/** Reads a small blob (a manifest, an index, an image config) from the daemon's content store. */
export async function readContentBlob(
  content: ServiceClient<typeof contentApi.Content>,
  digest: string,
  opts: CallOptions = {},
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const res of content.read({ digest }, opts)) {
    size += res.data.byteLength;
    if (size > MAX_SMALL_BLOB_BYTES) throw failedPrecondition(`blob ${digest} is larger than ${MAX_SMALL_BLOB_BYTES} bytes: not a manifest or config`);
    chunks.push(res.data);
  }
  return Buffer.concat(chunks);
}

/**
 * Writes `data` to the content store and commits it under its digest in one Write message
 * (data and commit together); an existing blob with that digest counts as written.
 */
export async function writeContentBlob(
  content: ServiceClient<typeof contentApi.Content>,
  ref: string,
  data: Uint8Array,
  labels: Readonly<Record<string, string>>,
  opts: CallOptions = {},
): Promise<{ digest: string; size: number }> {
  const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
  async function* requests() {
    yield { action: contentApi.WriteAction.COMMIT, ref, total: BigInt(data.byteLength), expected: digest, offset: 0n, data, labels: { ...labels } };
  }
  try {
    for await (const res of content.write(requests(), opts)) {
      if (res.action === contentApi.WriteAction.COMMIT) break;
    }
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  return { digest, size: data.byteLength };
}
