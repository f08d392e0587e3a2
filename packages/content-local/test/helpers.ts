import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { classOf, type ContentStore, type ErrorClass, type OpContext } from "@berth/core";
import { createLocalContentStore, type LocalContentStore, type LocalContentStoreOptions } from "../src/index.js";

export const ctx: OpContext = { namespace: "default" };

export const sha256 = (data: Uint8Array): string => `sha256:${createHash("sha256").update(data).digest("hex")}`;

export function blob(size: number): { data: Buffer; digest: string } {
  const data = randomBytes(size);
  return { data, digest: sha256(data) };
}

const roots: string[] = [];
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

/** A fresh root directory, removed after the test. */
export async function tempRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "berth-content-"));
  roots.push(root);
  return root;
}

export async function newStore(opts?: LocalContentStoreOptions): Promise<{ store: LocalContentStore; root: string }> {
  const root = await tempRoot();
  return { store: await createLocalContentStore(root, opts), root };
}

export async function readAll(iterable: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Writes `data` under `ref` and commits it, as a client's single Write stream would. */
export async function writeBlob(store: ContentStore, ref: string, data: Uint8Array, labels?: Record<string, string>) {
  const w = await store.writer(ctx, { ref, total: data.byteLength, expected: sha256(data) });
  await w.write(data);
  return w.commit(data.byteLength, sha256(data), labels);
}

/** The error class the promise rejects with (fails the test if it resolves). */
export async function errorClassOf(promise: Promise<unknown>): Promise<ErrorClass> {
  try {
    await promise;
  } catch (err) {
    return classOf(err);
  }
  throw new Error("expected a rejection");
}

export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}
