import { readFile } from "node:fs/promises";
import { relative, sep } from "node:path";

/** One line of /proc/self/mountinfo, the fields the snapshotter needs. */
export interface MountInfo {
  /** The path inside the filesystem that is mounted here ("/" or a subvolume path for btrfs). */
  readonly root: string;
  readonly mountPoint: string;
  readonly fsType: string;
  readonly source: string;
}

/** mountinfo escapes space, tab, newline and backslash as octal (\040…). */
const unescape = (field: string) => field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));

export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(" ");
    const dash = fields.indexOf("-");
    if (dash < 6) continue;
    out.push({
      root: unescape(fields[3]!),
      mountPoint: unescape(fields[4]!),
      fsType: fields[dash + 1] ?? "",
      source: unescape(fields[dash + 2] ?? ""),
    });
  }
  return out;
}

/** The mount `path` (a real path, no symlinks) lives on: the last mounted, deepest covering mount. */
export async function mountOf(path: string, mountinfo = "/proc/self/mountinfo"): Promise<MountInfo | undefined> {
  const mounts = parseMountInfo(await readFile(mountinfo, "utf8"));
  let best: MountInfo | undefined;
  for (const m of mounts) {
    const covers = m.mountPoint === "/" || path === m.mountPoint || path.startsWith(m.mountPoint + sep);
    // Later lines are mounted later and hide earlier ones at the same point.
    if (covers && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

/** Where `path` is inside its filesystem (what subvol= takes), given the mount it lives on. */
export function pathInFilesystem(m: MountInfo, path: string): string {
  const rel = relative(m.mountPoint, path);
  const joined = m.root.endsWith("/") ? m.root + rel : rel === "" ? m.root : `${m.root}/${rel}`;
  return joined;
}
