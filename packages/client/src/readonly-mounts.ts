import type { Mount } from "@berth/core";

/**
 * The same filesystem, read-only, for looking into a container's rootfs without writing to
 * it (as containerd's WithReadonlyTempMount): an overlay drops its upper and work directories
 * and keeps the upper as its top lower layer, so the snapshot's work directory is never used
 * by two mounts; anything else is mounted with "ro".
 */
export function readonlyMounts(mounts: readonly Mount[]): Mount[] {
  return mounts.map((m) => {
    if (m.type === "overlay") {
      let upper: string | undefined;
      const rest: string[] = [];
      for (const o of m.options) {
        if (o.startsWith("upperdir=")) upper = o.slice("upperdir=".length);
        else if (!o.startsWith("workdir=") && o !== "rw" && o !== "volatile") rest.push(o);
      }
      if (upper !== undefined) {
        const i = rest.findIndex((o) => o.startsWith("lowerdir="));
        if (i >= 0) rest[i] = `lowerdir=${upper}:${rest[i]!.slice("lowerdir=".length)}`;
        else rest.push(`lowerdir=${upper}`);
      }
      return { ...m, options: [...rest, "ro"] };
    }
    return { ...m, options: [...m.options.filter((o) => o !== "rw"), "ro"] };
  });
}
