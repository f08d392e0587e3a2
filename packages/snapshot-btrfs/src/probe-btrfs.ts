import { realpath, statfs } from "node:fs/promises";
import { mountOf, type MountInfo } from "./mountinfo.js";

const BTRFS_MAGIC = 0x9123683e;

/** Names of common filesystems by statfs magic, for the skip reason when mountinfo has none. */
const MAGIC_NAMES: Readonly<Record<number, string>> = {
  0xef53: "ext4",
  0x58465342: "xfs",
  0x01021994: "tmpfs",
  0x794c7630: "overlay",
  0x2fc12fc1: "zfs",
  0x6969: "nfs",
};

export type BtrfsProbe =
  | { readonly btrfs: true; readonly mount: MountInfo; readonly realRoot: string }
  | { readonly btrfs: false; readonly reason: string };

/** Whether `root` (which must exist) is on btrfs, and the mount it is on. */
export async function probeBtrfs(root: string): Promise<BtrfsProbe> {
  const realRoot = await realpath(root);
  const [fs, mount] = await Promise.all([statfs(realRoot), mountOf(realRoot)]);
  if (fs.type !== BTRFS_MAGIC) {
    const name = mount?.fsType ?? MAGIC_NAMES[fs.type] ?? `magic 0x${fs.type.toString(16)}`;
    return { btrfs: false, reason: `root ${root} is not a btrfs filesystem (it is ${name})` };
  }
  if (!mount || mount.fsType !== "btrfs") {
    return { btrfs: false, reason: `root ${root} is on btrfs, but no btrfs mount covering it is in /proc/self/mountinfo` };
  }
  return { btrfs: true, mount, realRoot };
}
