import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect } from "vitest";
import { classOf, type ContentStore, type ErrorClass, type OpContext } from "@berth/core";
import { openMetadataStore, type LmdbMetadataStore, type MetadataStoreOptions } from "../src/index.js";
import { createMemoryContentStore, sha256, type MemoryContentStore } from "./memory-content-store.js";

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** Runs `fn` after the test, before what was registered earlier (cleanups run in reverse). */
export function afterThisTest(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

/** A fresh directory removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "berth-meta-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface Fixture {
  readonly dir: string;
  readonly path: string;
  readonly backend: MemoryContentStore;
  readonly store: LmdbMetadataStore;
  /** Closes the store and opens the same environment again (a daemon restart). */
  reopen(opts?: MetadataStoreOptions): Promise<LmdbMetadataStore>;
}

/** A store in a temp dir over an in-memory backend; closed after the test. */
export async function setup(opts: MetadataStoreOptions = {}, backend: ContentStore = createMemoryContentStore()): Promise<Fixture> {
  const dir = await tempDir();
  const path = join(dir, "meta.lmdb");
  let store = await openMetadataStore(path, backend, opts);
  cleanups.push(() => store.close());
  return {
    dir,
    path,
    backend: backend as MemoryContentStore,
    get store() {
      return store;
    },
    async reopen(next = opts) {
      await store.close();
      store = await openMetadataStore(path, backend, next);
      return store;
    },
  };
}

export const ns = (namespace: string, lease?: string): OpContext => ({ namespace, lease });

/** Asserts that `promise` rejects with a BerthError of `cls`. */
export async function expectError(promise: Promise<unknown>, cls: ErrorClass): Promise<void> {
  let error: unknown;
  try {
    await promise;
  } catch (err) {
    error = err;
  }
  expect(error, `expected ${cls}`).toBeDefined();
  expect(classOf(error), String(error)).toBe(cls);
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

export async function readAll(store: ContentStore, ctx: OpContext, digest: string): Promise<string> {
  return Buffer.concat(await collect(store.read(ctx, digest))).toString();
}

/**
 * Writes `text` through ingest `ref` and commits it, as containerd's clients do: resume from
 * the writer's offset (all of it when the blob is shared from another namespace).
 */
export async function writeBlob(
  store: ContentStore,
  ctx: OpContext,
  ref: string,
  text: string,
  labels?: Record<string, string>,
) {
  const digest = sha256(text);
  const w = await store.writer(ctx, { ref, total: text.length, expected: digest });
  const { offset } = await w.status();
  await w.write(Buffer.from(text).subarray(offset));
  return w.commit(text.length, digest, labels);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export { sha256 };
