import { renameSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join, dirname } from "node:path";

/**
 * Renames a freshly built snapshot directory to its id, inside the transaction that allocated
 * the id. A directory already there can only be an orphan: a crash once renamed it there in a
 * transaction that never committed, so the id was handed out again. It is moved aside (cleanup
 * deletes it) rather than failing every create until someone runs cleanup. Works for btrfs
 * subvolumes too, read-only ones included: a rename within one directory never touches them.
 */
export function placeNewSnapshot(temp: string, target: string): void {
  try {
    renameSync(temp, target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // EBUSY: what btrfs answers when the directory in the way is a subvolume.
    if (code !== "ENOTEMPTY" && code !== "EEXIST" && code !== "EBUSY") throw err;
    renameSync(target, join(dirname(target), `orphan-${randomBytes(6).toString("hex")}`));
    renameSync(temp, target);
  }
}
