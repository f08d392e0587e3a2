import { notImplemented, invalidArgument } from "@berth/core";
import {
  MS_BIND,
  MS_DIRSYNC,
  MS_MANDLOCK,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_REMOUNT,
  MS_SHARED,
  MS_SLAVE,
  MS_STRICTATIME,
  MS_SYNCHRONOUS,
  MS_UNBINDABLE,
} from "@berth/native";

/** fstab-style options split the way mount(2) wants them. */
export interface ParsedOptions {
  /** Flags for the mount call itself. */
  readonly flags: number;
  /** A propagation change (MS_PRIVATE…, with MS_REC for the r* forms), 0 for none: a call of its own. */
  readonly propagation: number;
  /** Everything else, for the filesystem (`data`, joined with commas). */
  readonly data: readonly string[];
}

type FlagEffect = { readonly set: number } | { readonly clear: number };

const flagOptions: ReadonlyMap<string, FlagEffect> = new Map<string, FlagEffect>([
  ["defaults", { set: 0 }],
  ["ro", { set: MS_RDONLY }],
  ["rw", { clear: MS_RDONLY }],
  ["nosuid", { set: MS_NOSUID }],
  ["suid", { clear: MS_NOSUID }],
  ["nodev", { set: MS_NODEV }],
  ["dev", { clear: MS_NODEV }],
  ["noexec", { set: MS_NOEXEC }],
  ["exec", { clear: MS_NOEXEC }],
  ["sync", { set: MS_SYNCHRONOUS }],
  ["async", { clear: MS_SYNCHRONOUS }],
  ["dirsync", { set: MS_DIRSYNC }],
  ["remount", { set: MS_REMOUNT }],
  ["mand", { set: MS_MANDLOCK }],
  ["nomand", { clear: MS_MANDLOCK }],
  ["noatime", { set: MS_NOATIME }],
  ["atime", { clear: MS_NOATIME }],
  ["nodiratime", { set: MS_NODIRATIME }],
  ["diratime", { clear: MS_NODIRATIME }],
  ["relatime", { set: MS_RELATIME }],
  ["norelatime", { clear: MS_RELATIME }],
  ["strictatime", { set: MS_STRICTATIME }],
  ["nostrictatime", { clear: MS_STRICTATIME }],
  ["bind", { set: MS_BIND }],
  ["rbind", { set: MS_BIND | MS_REC }],
]);

const propagationOptions: ReadonlyMap<string, number> = new Map([
  ["private", MS_PRIVATE],
  ["rprivate", MS_PRIVATE | MS_REC],
  ["shared", MS_SHARED],
  ["rshared", MS_SHARED | MS_REC],
  ["slave", MS_SLAVE],
  ["rslave", MS_SLAVE | MS_REC],
  ["unbindable", MS_UNBINDABLE],
  ["runbindable", MS_UNBINDABLE | MS_REC],
]);

/** Options containerd's mount manager handles (loop devices, id-mapping) that Berth does not yet. */
const unsupported = [/^loop$/, /^uidmap=/, /^gidmap=/];

/**
 * Turns a Mount's options into flags and data, later options winning ("ro,rw" is rw). Unknown
 * options are the filesystem's own and go to `data` in order.
 */
export function parseMountOptions(options: readonly string[]): ParsedOptions {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  for (const option of options) {
    const effect = flagOptions.get(option);
    if (effect !== undefined) {
      flags = "set" in effect ? flags | effect.set : flags & ~effect.clear;
      continue;
    }
    const prop = propagationOptions.get(option);
    if (prop !== undefined) {
      propagation = prop;
      continue;
    }
    if (option.startsWith("X-containerd.")) throw invalidArgument(`mount option ${option} is for containerd's mount manager, not the kernel`);
    if (unsupported.some((re) => re.test(option))) throw notImplemented(`mount option ${option} is not supported`);
    data.push(option);
  }
  return { flags, propagation, data };
}
