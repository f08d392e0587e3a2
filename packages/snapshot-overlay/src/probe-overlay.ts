import { access, readFile } from "node:fs/promises";

export interface OverlayProbe {
  readonly supported: boolean;
  /** Why not, for skipPlugin. */
  readonly reason: string;
  /**
   * The kernel has overlay's `index` feature, so mounts say index=off (as containerd does):
   * with the index on, a lower layer shared by many containers' overlays may be refused as
   * "in use" and copy-ups record origins Berth never reads.
   */
  readonly hasIndex: boolean;
}

/** Whether this kernel mounts overlay (from /proc/filesystems: no mount attempt, no side effect). */
export async function probeOverlay(procFilesystems = "/proc/filesystems"): Promise<OverlayProbe> {
  let text: string;
  try {
    text = await readFile(procFilesystems, "utf8");
  } catch (err) {
    return { supported: false, reason: `cannot read ${procFilesystems}: ${(err as Error).message}`, hasIndex: false };
  }
  const names = text.split("\n").map((line) => line.split("\t").at(-1)?.trim());
  if (!names.includes("overlay")) {
    return {
      supported: false,
      reason: `the kernel has no overlay filesystem (not in ${procFilesystems}; try "modprobe overlay")`,
      hasIndex: false,
    };
  }
  const hasIndex = await access("/sys/module/overlay/parameters/index").then(
    () => true,
    () => false,
  );
  return { supported: true, reason: "", hasIndex };
}
