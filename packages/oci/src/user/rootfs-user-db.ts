import { failedPrecondition } from "@berth/core";
import { readTextInRoot } from "./root-file.js";
import { parseGroup, parsePasswd, type GroupEntry, type PasswdEntry } from "./user-db.js";

/** A container's /etc/passwd and /etc/group, each read (safely, inside the rootfs) at most once. */
export interface RootfsUserDb {
  /** The passwd entries, or undefined when the rootfs has no /etc/passwd. */
  passwd(): Promise<readonly PasswdEntry[] | undefined>;
  /** The group entries, or undefined when the rootfs has no /etc/group. */
  group(): Promise<readonly GroupEntry[] | undefined>;
}

/**
 * The user database of the rootfs at `rootfs`. Without a rootfs, reading fails with
 * FailedPrecondition naming `why`: the caller asked for something only the image can answer.
 */
export function rootfsUserDb(rootfs: string | undefined, why: string, signal?: AbortSignal): RootfsUserDb {
  const load = <T>(path: string, parse: (text: string) => T[]) => {
    let loaded: Promise<T[] | undefined> | undefined;
    return () => {
      if (rootfs === undefined) {
        return Promise.reject(failedPrecondition(`${why} needs the container's root filesystem: pass its path (SpecContext.rootfs) or use an absolute root.path`));
      }
      loaded ??= readTextInRoot(rootfs, path, { signal }).then((text) => (text === undefined ? undefined : parse(text)));
      return loaded;
    };
  };
  return { passwd: load("/etc/passwd", parsePasswd), group: load("/etc/group", parseGroup) };
}
