import assert from "node:assert/strict";
import { classOf, type ErrorClass } from "../errdefs/index.js";
import type { OpContext } from "../content/index.js";
import type { Mount, SnapshotInfo, Snapshotter } from "./snapshotter.js";

/**
 * What a backend's test gives each conformance case: a fresh snapshotter and a way to mount
 * what it returns. How mounting happens is the backend's choice (mount(8), @berth/mount…).
 */
export interface ConformanceHarness {
  readonly snapshotter: Snapshotter;
  readonly ctx: OpContext;
  /** A scratch directory for this case, removed with it. */
  readonly root: string;
  /** Mounts `mounts` (in order) on a fresh directory and returns it. */
  mount(mounts: readonly Mount[]): Promise<string>;
  /** Unmounts what `mount` mounted at `dir`. */
  unmount(dir: string): Promise<void>;
}

export interface ConformanceCase {
  /** Stable identifier, for `skip`. */
  readonly id: string;
  /** What the case shows, as a test title. */
  readonly name: string;
  /** Whether a backend may leave this case out, by id. */
  readonly optional: boolean;
  run(h: ConformanceHarness): Promise<void>;
}

export const defineCase = (id: string, name: string, run: ConformanceCase["run"], optional = false): ConformanceCase => ({
  id,
  name,
  optional,
  run,
});

/** Mounts, runs `fn` on the mounted directory, and always unmounts. */
export async function withMounted<T>(h: ConformanceHarness, mounts: readonly Mount[], fn: (dir: string) => Promise<T>): Promise<T> {
  assert.ok(mounts.length > 0, "expected at least one mount");
  const dir = await h.mount(mounts);
  try {
    return await fn(dir);
  } finally {
    await h.unmount(dir);
  }
}

/** Asserts that `promise` rejects with an errdefs error of class `expected`. */
export async function rejectsWith(promise: Promise<unknown>, expected: ErrorClass, what: string): Promise<void> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught !== undefined, `${what}: expected ${expected}, but it succeeded`);
  assert.equal(classOf(caught), expected, `${what}: expected ${expected}, got ${classOf(caught)}: ${String(caught)}`);
}

export async function collect(it: AsyncIterable<SnapshotInfo>): Promise<SnapshotInfo[]> {
  const out: SnapshotInfo[] = [];
  for await (const info of it) out.push(info);
  return out;
}

/** Names walked with `filters`, sorted. */
export async function walkNames(h: ConformanceHarness, filters: readonly string[]): Promise<string[]> {
  return (await collect(h.snapshotter.walk(h.ctx, filters))).map((i) => i.name).sort();
}

/** Prepares `key` over `parent`, lets `fill` write through the mounts, and commits it as `name`. */
export async function commitLayer(
  h: ConformanceHarness,
  name: string,
  parent: string,
  fill?: (dir: string) => Promise<void>,
): Promise<void> {
  const key = `${name}-active`;
  const mounts = await h.snapshotter.prepare(h.ctx, key, parent);
  if (fill) await withMounted(h, mounts, fill);
  await h.snapshotter.commit(h.ctx, name, key);
}
