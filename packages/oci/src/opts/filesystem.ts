import { posix } from "node:path";
import { failedPrecondition, invalidArgument } from "@berth/core";
import type { Mount } from "../runtime-spec.js";
import { rootOf } from "../spec-parts.js";
import type { SpecOpt } from "../spec-opt.js";

/** A path without ".", "..", doubled or trailing slashes, to compare mount destinations. */
function cleanPath(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith("/") ? normal.slice(0, -1) : normal;
}

/** The root filesystem's path: relative to the bundle, or an absolute (unmanaged) directory. */
export function withRootfsPath(path: string): SpecOpt {
  return (spec) => {
    rootOf(spec).path = path;
  };
}

/** Mounts the root filesystem read-only (the runtime remounts it after preparing mount points). */
export const withRootfsReadonly: SpecOpt = (spec) => {
  rootOf(spec).readonly = true;
};

/** Appends mounts, after the default ones: a later mount over the same destination wins. */
export function withMounts(mounts: readonly Mount[]): SpecOpt {
  for (const m of mounts) {
    if (!posix.isAbsolute(m.destination)) throw invalidArgument(`mount destination ${JSON.stringify(m.destination)} is not absolute`);
  }
  return (spec) => {
    spec.mounts = [...(spec.mounts ?? []), ...mounts.map((m) => structuredClone(m))];
  };
}

/** Removes the mounts at these destinations. */
export function withoutMounts(...destinations: string[]): SpecOpt {
  const drop = new Set(destinations.map(cleanPath));
  return (spec) => {
    spec.mounts = (spec.mounts ?? []).filter((m) => !drop.has(cleanPath(m.destination)));
  };
}

/** Sizes the default /dev/shm tmpfs, in KiB. */
export function withDevShmSize(kib: number): SpecOpt {
  if (!Number.isSafeInteger(kib) || kib <= 0) throw invalidArgument(`/dev/shm size must be a positive number of KiB, got ${kib}`);
  return (spec) => {
    const shm = spec.mounts?.find((m) => cleanPath(m.destination) === "/dev/shm" && m.source === "shm" && m.type === "tmpfs");
    if (!shm) throw failedPrecondition("the spec has no /dev/shm tmpfs mount to size");
    shm.options = [...(shm.options ?? []).filter((o) => !o.startsWith("size=")), `size=${kib}k`];
  };
}

function hostFileBind(path: string): SpecOpt {
  return (spec) => {
    spec.mounts = [...(spec.mounts ?? []), { destination: path, type: "bind", source: path, options: ["rbind", "ro"] }];
  };
}

/** The host's /etc/hosts, read-only (for host networking). */
export const withHostHostsFile: SpecOpt = hostFileBind("/etc/hosts");
/** The host's /etc/resolv.conf, read-only (for host networking). */
export const withHostResolvConf: SpecOpt = hostFileBind("/etc/resolv.conf");
/** The host's /etc/localtime, read-only. */
export const withHostLocaltime: SpecOpt = hostFileBind("/etc/localtime");

function withWritable(type: string): SpecOpt {
  return (spec) => {
    for (const m of spec.mounts ?? []) {
      if (m.type === type && m.options) m.options = m.options.map((o) => (o === "ro" ? "rw" : o));
    }
  };
}

/** Makes sysfs mounts writable (privileged containers). */
export const withWritableSysfs: SpecOpt = withWritable("sysfs");
/** Makes cgroup mounts writable (privileged containers). */
export const withWritableCgroupfs: SpecOpt = withWritable("cgroup");
