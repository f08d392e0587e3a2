import type { ContentStore, OpContext } from "@berth/core";
import type { MetaDb } from "./db.js";
import { blobsPrefix, ingestsPrefix, namespacesPrefix } from "./keys.js";
import type { IngestRecord } from "./records.js";

/**
 * Digests whose backend commit has happened but whose ownership is not recorded yet. Counted,
 * because two namespaces may commit the same digest at once.
 */
export class InFlightCommits {
  readonly #counts = new Map<string, number>();

  add(digest: string): void {
    this.#counts.set(digest, (this.#counts.get(digest) ?? 0) + 1);
  }

  delete(digest: string): void {
    const n = (this.#counts.get(digest) ?? 0) - 1;
    if (n > 0) this.#counts.set(digest, n);
    else this.#counts.delete(digest);
  }

  has(digest: string): boolean {
    return this.#counts.has(digest);
  }
}

export interface UnreferencedContent {
  /** Backend blobs no namespace owns and no shared ingest is about to claim. */
  readonly blobs: string[];
  /** Backend ingest refs no namespace's ingest points at. */
  readonly ingests: string[];
}

/**
 * What a collector may remove from the backend; removes nothing itself (the collector's own
 * backend sweep is gc-backends.ts, which decides per batch, gated against writers).
 * Deleting content in a namespace only drops that namespace's ownership (as in containerd), so
 * bytes nobody owns stay in the backend until a collector asks this.
 *
 * The backend is listed first and metadata read after, in one synchronous step together with
 * the in-flight commits: a blob the listing saw was committed to the backend before, so by then
 * its ownership is either recorded, in flight, or never coming (a failed commit): only the last
 * is reported. Ingest records are written before their backend ingest is opened, so the same
 * order is safe for ingests.
 */
export async function findUnreferencedContent(
  db: MetaDb,
  backend: ContentStore,
  inFlight: InFlightCommits,
  ctx: OpContext,
): Promise<UnreferencedContent> {
  const backendBlobs: string[] = [];
  for await (const info of backend.walk(ctx, [])) backendBlobs.push(info.digest);
  const backendIngests = (await backend.listStatuses(ctx, [])).map((s) => s.ref);

  const owned = new Set<string>();
  const refs = new Set<string>();
  for (const { key } of db.list(namespacesPrefix)) {
    const ns = String(key[1]);
    for (const { key: blob } of db.list(blobsPrefix(ns))) owned.add(String(blob[4]));
    for (const { value } of db.list<IngestRecord>(ingestsPrefix(ns))) {
      refs.add(value.backendRef);
      if (value.shared) owned.add(value.shared.digest);
    }
  }
  return {
    blobs: backendBlobs.filter((d) => !owned.has(d) && !inFlight.has(d)),
    ingests: backendIngests.filter((r) => !refs.has(r)),
  };
}
