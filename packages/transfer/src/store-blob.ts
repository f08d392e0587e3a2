import { setTimeout as sleep } from "node:timers/promises";
import {
  failedPrecondition,
  isAlreadyExists,
  isFailedPrecondition,
  isUnavailable,
  type ContentStore,
  type ContentWriter,
  type Descriptor,
  type OpContext,
} from "@berth/core";
import type { BlobState, ImageSource, ProgressListener } from "./image-source.js";
import type { LiveBlob } from "./live-blob.js";
import { WriteBatches } from "./write-batches.js";

export interface StoreBlobOptions {
  /** Labels the blob gets when this call commits it (a blob already stored keeps its own). */
  readonly labels?: Readonly<Record<string, string>> | undefined;
  /** Also hands the downloaded bytes to this feed as they arrive (an unpack reading behind the download). */
  readonly live?: LiveBlob | undefined;
}

/** stored: this call committed it; exists: the store had it, or another writer committed it first. */
export type StoreOutcome = "stored" | "exists";

/** Ingest refs are per digest, so a download interrupted by anything (even SIGKILL) resumes. */
export function ingestRef(desc: Descriptor): string {
  return `remote-${desc.digest}`;
}

/**
 * Copies one blob from `source` into the content store, resuming an earlier partial ingest
 * from its offset. Size and digest are verified on commit; on a mismatch the ingest is
 * removed (so the next attempt starts clean) and the error names the blob, the digest it got
 * and the one expected. A blob already in the store, or committed meanwhile by a concurrent
 * pull (this one waits while the other holds the ingest), counts as done.
 */
export async function storeBlob(
  content: ContentStore,
  ctx: OpContext,
  source: ImageSource,
  desc: Descriptor,
  onProgress?: ProgressListener,
  opts: StoreBlobOptions = {},
): Promise<StoreOutcome> {
  const report = (offset: number, state: BlobState) =>
    onProgress?.({ digest: desc.digest, mediaType: desc.mediaType, offset, total: desc.size, state });
  const writer = await openWriter(content, ctx, desc, () => report(0, "waiting"));
  if (writer === undefined) {
    opts.live?.detach();
    report(desc.size, "exists");
    return "exists";
  }
  let offset = 0;
  try {
    offset = await download(writer, source, desc, ctx.signal, (at) => report(at, "downloading"), opts.live);
  } catch (err) {
    // The ingest stays: the next attempt resumes from what was written, unless it was too much.
    await writer.close().catch(() => undefined);
    if (isFailedPrecondition(err)) await content.abort(ctx, ingestRef(desc)).catch(() => undefined);
    throw err;
  }
  report(offset, "verifying");
  const actual = writer.digest();
  try {
    await writer.commit(desc.size, desc.digest, opts.labels);
  } catch (err) {
    if (isAlreadyExists(err)) {
      report(desc.size, "exists");
      return "exists";
    }
    if (isFailedPrecondition(err)) {
      // Bad bytes must not be resumed from: the next attempt starts from nothing. (Commit has
      // released the writer, whatever the outcome.)
      await content.abort(ctx, ingestRef(desc)).catch(() => undefined);
      const what = offset !== desc.size ? `size mismatch: got ${offset} bytes, expected ${desc.size}` : `digest mismatch: got ${actual}, expected ${desc.digest}`;
      throw failedPrecondition(`blob ${desc.digest} (${desc.mediaType}) failed verification: ${what}; the download was discarded`, err);
    }
    throw err;
  }
  report(desc.size, "done");
  return "stored";
}

/**
 * Bytes gathered before one write: fewer, larger writes, and the next batch arrives from the
 * network while the previous one is written (write-batches.ts).
 */
const WRITE_BATCH = 1 << 20;

/** Writes the rest of the blob; returns the offset reached. */
async function download(
  writer: ContentWriter,
  source: ImageSource,
  desc: Descriptor,
  signal: AbortSignal | undefined,
  progress: (offset: number) => void,
  live: LiveBlob | undefined,
): Promise<number> {
  let offset = (await writer.status()).offset;
  if (offset > desc.size) {
    // More than the blob can hold: nothing in it can be trusted.
    await writer.truncate(0);
    offset = 0;
  }
  if (offset === desc.size) return offset;
  progress(offset);
  let received = offset;
  const batches = new WriteBatches(WRITE_BATCH);
  let writing: Promise<number> | undefined;
  // Waits for the write in flight (its buffer is then free again), then writes `direct` or the
  // batch gathered so far.
  const flush = async (direct?: Uint8Array) => {
    if (writing !== undefined) offset = await writing;
    const data = direct ?? (batches.size > 0 ? batches.take() : undefined);
    writing = data === undefined ? undefined : writer.write(data);
    writing?.catch(() => undefined);
    progress(offset);
  };
  try {
    for await (const chunk of source.fetch(desc, { offset, signal })) {
      if (received + chunk.byteLength > desc.size) {
        batches.clear();
        throw failedPrecondition(`blob ${desc.digest}: the source sent more than its ${desc.size} bytes`);
      }
      live?.offer(chunk, received);
      received += chunk.byteLength;
      if (batches.add(chunk)) continue;
      await flush();
      // A chunk larger than a whole batch goes out as it came.
      if (!batches.add(chunk)) await flush(chunk);
    }
  } catch (err) {
    // Whatever arrived before the failure is kept, so the next attempt resumes after it.
    await flush()
      .then(() => flush())
      .catch(() => undefined);
    throw err;
  } finally {
    // The writer must be idle before it is closed.
    if (writing !== undefined) await writing.catch(() => undefined);
  }
  await flush(); // writes the last batch…
  await flush(); // …and waits for it
  return offset;
}

/** The blob's writer; undefined when the store has the blob. Waits while another pull holds the ingest. */
async function openWriter(content: ContentStore, ctx: OpContext, desc: Descriptor, waiting: () => void): Promise<ContentWriter | undefined> {
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    try {
      return await content.writer(ctx, { ref: ingestRef(desc), total: desc.size, expected: desc.digest });
    } catch (err) {
      if (isAlreadyExists(err)) return undefined;
      // Another pull is fetching the same blob: once it commits, the next try finds the blob.
      if (!isUnavailable(err)) throw err;
    }
    if (delay === 50) waiting();
    await sleep(delay, undefined, { signal: ctx.signal });
  }
}
