import { linuxOf, processOf } from "../spec-parts.js";
import { composeSpecOpts, type SpecOpt } from "../spec-opt.js";
import { withAllCurrentCapabilities } from "./capabilities.js";
import { withWritableCgroupfs, withWritableSysfs } from "./filesystem.js";
import { withSeccompUnconfined } from "./seccomp.js";

/** Replaces the paths hidden from the container (none with an empty list). */
export function withMaskedPaths(paths: readonly string[]): SpecOpt {
  return (spec) => {
    linuxOf(spec).maskedPaths = [...paths];
  };
}

/** Replaces the paths mounted read-only in the container (none with an empty list). */
export function withReadonlyPaths(paths: readonly string[]): SpecOpt {
  return (spec) => {
    linuxOf(spec).readonlyPaths = [...paths];
  };
}

/** The process's SELinux label ("" for none). */
export function withSelinuxLabel(label: string): SpecOpt {
  return (spec) => {
    processOf(spec).selinuxLabel = label;
  };
}

/** The process's AppArmor profile ("" for none). */
export function withApparmorProfile(profile: string): SpecOpt {
  return (spec) => {
    processOf(spec).apparmorProfile = profile;
  };
}

/**
 * containerd's privileged container: every capability the caller holds, nothing masked or
 * read-only, writable sysfs and cgroupfs, no SELinux label or AppArmor profile, no seccomp.
 * Devices are separate, as in containerd: `ctr run --privileged` adds withAllDevicesAllowed and
 * withHostDevices (see withPrivilegedDevices).
 */
export const withPrivileged: SpecOpt = composeSpecOpts(
  withAllCurrentCapabilities,
  withMaskedPaths([]),
  withReadonlyPaths([]),
  withWritableSysfs,
  withWritableCgroupfs,
  withSelinuxLabel(""),
  withApparmorProfile(""),
  withSeccompUnconfined,
);
