import { setTimeout as sleep } from "node:timers/promises";
import {
  classOf,
  failedPrecondition,
  isAlreadyExists,
  isNotFound,
  isUnavailable,
  type ContentStore,
  type ContentWriter,
  type Descriptor,
  type OpContext,
} from "@berth/core";
import type { Fetcher } from "../registry/fetcher.js";

export type FetchState = "waiting" | "downloading" | "verifying" | "done" | "exists" | "failed";

/** Where one blob's download stands; `offset` counts bytes in the store, resumed ones included. */
export interface FetchProgress {
  readonly digest: string;
  readonly offset: number;
  readonly total: number;
  readonly state: FetchState;
}

export interface FetchToContentOptions {
  readonly onProgress?: ((progress: FetchProgress) => void) | undefined;
  /** Labels for the committed blob (GC references, for instance). */
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface FetchToContentResult {
  /** exists: the store had it already; fetched: downloaded and committed now. */
  readonly outcome: "exists" | "fetched";
  /** Bytes already in the ingest when this download started (0: from scratch). */
  readonly resumedFrom: number;
  /** Bytes received from the registry this time. */
  readonly received: number;
}

/** One ingest ref per digest: two pulls of the same blob share it instead of writing it twice. */
export function fetchRef(digest: string): string {
  return `fetch-${digest}`;
}

/** How long to wait between looks while another fetch holds the same blob's ingest. */
const LOCKED_POLL_MS = 100;

/**
 * Downloads `desc` into `store`: opens the ingest `fetch-<digest>`, continues from its offset
 * with a Range request (an interrupted pull resumes), and commits with the descriptor's size
 * and digest. A blob the store has already is done (AlreadyExists is success). A mismatch
 * aborts the ingest, so nothing partial or corrupt is left and a retry starts clean; it fails
 * FailedPrecondition naming the blob, the expected and the actual digest.
 */
export async function fetchToContent(
  store: ContentStore,
  ctx: OpContext,
  fetcher: Fetcher,
  desc: Descriptor,
  opts: FetchToContentOptions = {},
): Promise<FetchToContentResult> {
  const signal = opts.signal ?? ctx.signal;
  const report = (state: FetchState, offset: number) => opts.onProgress?.({ digest: desc.digest, offset, total: desc.size, state });
  const ref = fetchRef(desc.digest);

  const writer = await openWriter(store, ctx, ref, desc, signal, report);
  if (writer === "exists") {
    report("exists", desc.size);
    return { outcome: "exists", resumedFrom: 0, received: 0 };
  }

  let offset = 0;
  let resumedFrom = 0;
  let received = 0;
  try {
    offset = (await writer.status()).offset;
    if (offset > desc.size) {
      // More than the blob can hold: nothing in it can be trusted.
      await writer.truncate(0);
      offset = 0;
    }
    resumedFrom = offset;
    report("downloading", offset);
    for await (const chunk of fetcher.fetch(desc, { offset, signal })) {
      offset = await writer.write(chunk);
      received += chunk.byteLength;
      report("downloading", offset);
    }
    report("verifying", offset);
    const actual = writer.digest();
    try {
      await writer.commit(desc.size, desc.digest, opts.labels);
    } catch (err) {
      if (isAlreadyExists(err)) {
        report("exists", desc.size);
        return { outcome: "exists", resumedFrom, received };
      }
      if (classOf(err) === "FailedPrecondition") {
        await store.abort(ctx, ref).catch(() => undefined);
        const what = offset !== desc.size ? `size mismatch: got ${offset} bytes, expected ${desc.size}` : `digest mismatch: got ${actual}, expected ${desc.digest}`;
        throw failedPrecondition(
          `blob ${desc.digest} (${desc.mediaType}) from ${fetcher.reference.domain}/${fetcher.reference.path}: ${what}; the download was discarded`,
          err,
        );
      }
      throw err;
    }
  } catch (err) {
    report("failed", offset);
    // Commit releases the writer itself; otherwise release it and keep the ingest to resume.
    await writer.close().catch(() => undefined);
    throw err;
  }
  report("done", desc.size);
  return { outcome: "fetched", resumedFrom, received };
}

/** The blob's writer, "exists" when the store has it, waiting while another fetch holds the ref. */
async function openWriter(
  store: ContentStore,
  ctx: OpContext,
  ref: string,
  desc: Descriptor,
  signal: AbortSignal | undefined,
  report: (state: FetchState, offset: number) => void,
): Promise<ContentWriter | "exists"> {
  for (let waited = false; ; ) {
    signal?.throwIfAborted();
    try {
      return await store.writer(ctx, { ref, total: desc.size, expected: desc.digest });
    } catch (err) {
      if (isAlreadyExists(err)) return "exists";
      if (!isUnavailable(err)) throw err;
    }
    // Locked: another fetch of this blob is running. It may finish (then the blob exists) or fail.
    try {
      await store.info(ctx, desc.digest);
      return "exists";
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!waited) report("waiting", 0);
    waited = true;
    await sleep(LOCKED_POLL_MS, undefined, { signal });
  }
}
