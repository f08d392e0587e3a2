import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { openSnapshotStorage } from "../src/index.js";

it("a child process inherits none of the store's lmdb descriptors", async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-snapshot-storage-cloexec-"));
  const storage = await openSnapshotStorage(join(dir, "metadata.lmdb"));
  try {
    // What this process holds, then what a child started now holds (a shim is such a child).
    const { stdout: own } = await promisify(execFile)("ls", ["-l", `/proc/${process.pid}/fd`]);
    expect(own, "the store's files should be open in this process").toContain(dir);
    const { stdout: child } = await promisify(execFile)("sh", ["-c", "ls -l /proc/$$/fd"]);
    expect(child).not.toContain(dir);
  } finally {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
});
