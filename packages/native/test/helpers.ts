import { execFileSync } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { MNT_DETACH, umount2 } from "../src/index.js";

/** Fails (never skips) when not root: these tests make device nodes, trusted.* xattrs and mounts. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error("@berth/native tests need root (mknod, trusted.* xattrs, mount): run them as root");
}

/** The path of a tool the test needs; its absence fails the test, naming what to install. */
export async function requireTool(name: string): Promise<string> {
  for (const dir of (process.env["PATH"] ?? "/usr/bin:/bin").split(":")) {
    try {
      await access(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  throw new Error(`${name} is needed by this test and is not on PATH (apt-get install ${name})`);
}

const dirs: string[] = [];

afterEach(async () => {
  for (const dir of dirs.splice(0)) {
    // A failed test may leave a mount behind; rm -rf must never walk into it.
    for (const point of (await mountPointsUnder(dir)).reverse()) umount2(point, MNT_DETACH);
    await rm(dir, { recursive: true, force: true });
  }
});

/** A fresh directory on the temp filesystem, removed (mounts first) after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "berth-native-"));
  dirs.push(dir);
  return dir;
}

/** Mount points at or below `dir`, in mount order (this test's paths have no escaped characters). */
export async function mountPointsUnder(dir: string): Promise<string[]> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  return info
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((point): point is string => point !== undefined && (point === dir || point.startsWith(`${dir}/`)));
}

/** The error `fn` throws (fails the test when it does not throw). */
export function thrown(fn: () => unknown): NodeJS.ErrnoException {
  try {
    fn();
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
  throw new Error("expected an exception");
}

/** Bytes of `path` in the page cache, by util-linux's fincore. */
export async function residentBytes(path: string): Promise<number> {
  const fincore = await requireTool("fincore");
  const out = execFileSync(fincore, ["--bytes", "--noheadings", "--output", "RES", path], { encoding: "utf8" });
  return Number(out.trim());
}
