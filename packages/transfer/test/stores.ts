import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import type { ContentStore, OpContext } from "@berth/core";
import { createLocalContentStore } from "@berth/content-local";
import { openMetadataStore, type LmdbMetadataStore } from "@berth/metadata-lmdb";
import type { PullStores } from "../src/index.js";

export const ctx: OpContext = { namespace: "default" };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** Runs `fn` after the current test, last registered first. */
export function onCleanup(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

/** Real stores in a temp dir: content-local under metadata-lmdb, as the daemon assembles them. */
export async function newStores(): Promise<{ meta: LmdbMetadataStore; stores: PullStores; backend: ContentStore }> {
  const dir = await mkdtemp(join(tmpdir(), "berth-transfer-"));
  const backend = await createLocalContentStore(join(dir, "content"));
  const meta = await openMetadataStore(join(dir, "meta", "meta.lmdb"), backend);
  onCleanup(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { meta, backend, stores: { content: meta.content, images: meta.images, leases: meta.leases } };
}
