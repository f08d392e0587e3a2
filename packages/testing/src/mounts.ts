import { sep } from "node:path";
import { readMountInfo } from "@berth/mount";

/**
 * Every mount point at or below `dir`, deepest first: what a test left mounted. Names that are
 * not UTF-8 come out mangled; tests make their own directories and never use such names.
 */
export async function mountsBelow(dir: string): Promise<string[]> {
  return (await readMountInfo())
    .map((m) => m.mountPoint.toString())
    .filter((p) => p === dir || p.startsWith(dir + sep))
    .sort((a, b) => b.length - a.length);
}
