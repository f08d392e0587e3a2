import { defaultSeccompProfile } from "../seccomp/default-profile.js";
import type { SeccompHost } from "../seccomp/host.js";
import type { LinuxSeccomp } from "../runtime-spec.js";
import { linuxOf } from "../spec-parts.js";
import type { SpecOpt } from "../spec-opt.js";

/**
 * containerd's default seccomp profile, computed from the spec as it stands: apply it after the
 * options that change capabilities (a privileged or CAP_SYS_ADMIN container gets more calls).
 */
export function withDefaultSeccomp(host?: SeccompHost): SpecOpt {
  return (spec) => {
    linuxOf(spec).seccomp = defaultSeccompProfile(spec, host);
  };
}

/** A seccomp profile of the caller's own (e.g. parsed from a JSON file). */
export function withSeccompProfile(profile: LinuxSeccomp): SpecOpt {
  return (spec) => {
    linuxOf(spec).seccomp = structuredClone(profile);
  };
}

/** No seccomp filter at all. */
export const withSeccompUnconfined: SpecOpt = (spec) => {
  delete linuxOf(spec).seccomp;
};
