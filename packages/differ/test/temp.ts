import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { unmountAll } from "@berth/mount";

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** Runs `fn` after the current test, last registered first. */
export function afterThisTest(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

/**
 * A fresh directory, removed after the test — after unmounting anything left mounted under it,
 * so a failed test can never delete files through a mount.
 */
export async function tempDir(prefix = "berth-differ-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  afterThisTest(async () => {
    await unmountAll(dir, { detachOnBusy: true });
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Fails the test (never skips it) when not root: the applier needs chown, mknod and mounts. */
export function requireRoot(): void {
  if (process.geteuid?.() !== 0) throw new Error("these tests need root (chown, mknod, trusted.* xattrs, mounts); run them as root");
}
