// A real metadata store over the local content store in a temp dir, and a collector that
// reports each collection it runs, for watching what the scheduler does.
import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import type { CollectionStats, ContentStore, MetadataCollector, OpContext } from "@berth/core";
import { createLocalContentStore } from "@berth/content-local";
import { openMetadataStore, type LmdbMetadataStore } from "@berth/metadata-lmdb";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

export function afterThisTest(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

export async function tempDir(prefix = "berth-gc-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  afterThisTest(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export const sha256 = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;

export async function writeBlob(store: ContentStore, ctx: OpContext, ref: string, text: string, labels?: Record<string, string>) {
  const w = await store.writer(ctx, { ref, total: text.length, expected: sha256(text) });
  await w.write(Buffer.from(text));
  return w.commit(text.length, sha256(text), labels);
}

/** Wraps a collector: counts collections and lets a test wait for the next one to finish. */
export class WatchedCollector implements MetadataCollector {
  started = 0;
  readonly #inner: MetadataCollector;
  #waiting: ((stats: CollectionStats) => void)[] = [];

  constructor(inner: MetadataCollector) {
    this.#inner = inner;
  }

  async collect(opts?: { signal?: AbortSignal }): Promise<CollectionStats> {
    this.started++;
    const stats = await this.#inner.collect(opts);
    for (const w of this.#waiting.splice(0)) w(stats);
    return stats;
  }

  onMutation(listener: (dirty: boolean) => void): () => void {
    return this.#inner.onMutation(listener);
  }

  /** Resolves when the next collection (one not finished yet) finishes. */
  next(): Promise<CollectionStats> {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
}

export interface StoreWorld {
  readonly store: LmdbMetadataStore;
  readonly watched: WatchedCollector;
  blobsOnDisk(): Promise<number>;
}

export async function storeWorld(): Promise<StoreWorld> {
  const dir = await tempDir();
  const content = await createLocalContentStore(join(dir, "content"));
  const store = await openMetadataStore(join(dir, "meta.lmdb"), content);
  afterThisTest(() => store.close());
  return {
    store,
    watched: new WatchedCollector(store.collector),
    blobsOnDisk: async () => (await readdir(join(dir, "content", "blobs", "sha256"))).length,
  };
}
