import { statfs } from "node:fs/promises";
import { exec, requireTool } from "./tools.js";

const TMPFS_MAGIC = 0x01021994;

/** Bytes of `path` held in the page cache, by util-linux's fincore. */
export async function residentBytes(path: string): Promise<number> {
  const fincore = await requireTool("fincore", "util-linux");
  const { stdout } = await exec(fincore, ["--bytes", "--noheadings", "--output", "RES", path]);
  return Number(stdout.trim());
}

/** Fails unless `dir` is on a filesystem that drops pages when told to (tmpfs keeps them all). */
export async function requireDiskBacked(dir: string): Promise<void> {
  if ((await statfs(dir)).type === TMPFS_MAGIC) throw new Error(`${dir} is on tmpfs, which keeps every page: set TMPDIR to a disk-backed directory`);
}
