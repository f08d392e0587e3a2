import { setTimeout as sleep } from "node:timers/promises";
import { failedPrecondition, isAlreadyExists, isFailedPrecondition, isUnavailable, type ContentStore, type ContentWriter, type Descriptor, type OpContext } from "@berth/core";
import type { ImageSource, ProgressListener } from "./image-source.js";

/** Ingest refs are per digest, so a download interrupted by anything (even SIGKILL) resumes. */
export function ingestRef(desc: Descriptor): string {
  return `remote-${desc.digest}`;
}

/**
 * Copies one blob from `source` into the content store, resuming an earlier partial ingest
 * from its offset. Size and digest are verified on commit; on a mismatch the ingest is
 * removed (so the next attempt starts clean) and the error names the blob. A blob already
 * in the store, or committed meanwhile by a concurrent pull, counts as done.
 */
export async function storeBlob(
  content: ContentStore,
  ctx: OpContext,
  source: ImageSource,
  desc: Descriptor,
  onProgress?: ProgressListener,
): Promise<void> {
  const report = (offset: number, state: "downloading" | "done" | "exists") =>
    onProgress?.({ digest: desc.digest, mediaType: desc.mediaType, offset, total: desc.size, state });
  const writer = await openWriter(content, ctx, desc);
  if (writer === undefined) return report(desc.size, "exists");
  try {
    await download(writer, source, desc, ctx.signal, (offset) => report(offset, "downloading"));
  } catch (err) {
    // The ingest stays: the next attempt resumes from what was written, unless it was too much.
    await writer.close().catch(() => undefined);
    if (isFailedPrecondition(err)) await content.abort(ctx, ingestRef(desc)).catch(() => undefined);
    throw err;
  }
  try {
    await writer.commit(desc.size, desc.digest);
  } catch (err) {
    if (isAlreadyExists(err)) return report(desc.size, "exists");
    if (isFailedPrecondition(err)) {
      // Bad bytes must not be resumed from: the next attempt starts from nothing.
      await content.abort(ctx, ingestRef(desc)).catch(() => undefined);
      throw failedPrecondition(`blob ${desc.digest} (${desc.mediaType}) failed verification: ${(err as Error).message}`, err);
    }
    throw err;
  }
  report(desc.size, "done");
}

async function download(
  writer: ContentWriter,
  source: ImageSource,
  desc: Descriptor,
  signal: AbortSignal | undefined,
  progress: (offset: number) => void,
): Promise<void> {
  let offset = (await writer.status()).offset;
  if (offset > desc.size) {
    await writer.truncate(0);
    offset = 0;
  }
  if (offset === desc.size) return;
  progress(offset);
  for await (const chunk of source.fetch(desc, { offset, signal })) {
    if (offset + chunk.byteLength > desc.size) {
      throw failedPrecondition(`blob ${desc.digest}: the source sent more than its ${desc.size} bytes`);
    }
    offset = await writer.write(chunk);
    progress(offset);
  }
}

async function openWriter(content: ContentStore, ctx: OpContext, desc: Descriptor): Promise<ContentWriter | undefined> {
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    try {
      return await content.writer(ctx, { ref: ingestRef(desc), total: desc.size, expected: desc.digest });
    } catch (err) {
      if (isAlreadyExists(err)) return undefined;
      // Another pull is fetching the same blob: wait for it, then it usually exists.
      if (!isUnavailable(err)) throw err;
      await sleep(delay, undefined, { signal: ctx.signal });
    }
  }
}
