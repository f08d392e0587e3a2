import { mkdtemp, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Mount } from "@berth/core";
import { mountAll } from "./mount-all.js";
import { unmountAll } from "./unmount-all.js";

export interface WithMountsOptions {
  /** Checked before mounting and before `fn` runs. */
  readonly signal?: AbortSignal;
  /** Where the temporary mount point is made; os.tmpdir() by default. */
  readonly tempDir?: string;
}

/**
 * Mounts `mounts` on a fresh temporary directory, runs `fn` with its path, then unmounts and
 * removes the directory — also when `fn` throws, whose error then wins over any cleanup error.
 * The directory is removed with rmdir, never recursively: if an unmount failed, a recursive
 * delete would go through the mount and destroy the snapshot's files.
 */
export async function withMounts<T>(mounts: readonly Mount[], fn: (root: string) => Promise<T>, opts: WithMountsOptions = {}): Promise<T> {
  opts.signal?.throwIfAborted();
  const root = await mkdtemp(join(opts.tempDir ?? tmpdir(), "berth-mount-"));
  let outcome: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    await mountAll(mounts, root);
    try {
      opts.signal?.throwIfAborted();
      outcome = { ok: true, value: await fn(root) };
    } catch (error) {
      outcome = { ok: false, error };
    }
  } catch (error) {
    await rmdir(root).catch(() => undefined);
    throw error;
  }
  try {
    await unmountAll(root, { detachOnBusy: true });
    await rmdir(root);
  } catch (cleanupError) {
    if (outcome.ok) throw cleanupError;
  }
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}
