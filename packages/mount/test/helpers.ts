import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { classOf, type ErrorClass } from "@berth/core";
import { readMountInfo, unmountAll, type MountInfo } from "../src/index.js";

/** Fails (never skips) when not root: every test here mounts. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error("@berth/mount tests need root (mount(2)): run them as root");
}

const dirs: string[] = [];

afterEach(async () => {
  for (const dir of dirs.splice(0)) {
    // Unmount first: rm -rf through a leftover bind mount would delete its source.
    await unmountAll(dir, { detachOnBusy: true });
    await rm(dir, { recursive: true, force: true });
  }
});

/** A fresh directory on the temp filesystem; after the test, whatever is mounted below it is unmounted and it is removed. */
export async function tempDir(prefix = "berth-mount-test-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** Mounts at or below `dir`, in the kernel's order. */
export async function mountsUnder(dir: string): Promise<MountInfo[]> {
  return (await readMountInfo()).filter((m) => {
    const point = m.mountPoint.toString();
    return point === dir || point.startsWith(`${dir}/`);
  });
}

/** The topmost mount on exactly `path`. */
export async function mountAt(path: string): Promise<MountInfo | undefined> {
  return (await readMountInfo()).filter((m) => m.mountPoint.toString() === path).at(-1);
}

export async function rejection(promise: Promise<unknown>): Promise<Error & { cause?: NodeJS.ErrnoException }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { cause?: NodeJS.ErrnoException };
  }
  throw new Error("expected a rejection");
}

export async function errorClassOf(promise: Promise<unknown>): Promise<ErrorClass> {
  return classOf(await rejection(promise));
}
