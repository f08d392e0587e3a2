import { readFile } from "node:fs/promises";
import { posix } from "node:path";
import { criApi } from "@berth/api";
import { invalidArgument, type Mount as SnapshotMount } from "@berth/core";
import type { ImageConfig } from "@berth/image-spec";
import { withMounts as withMountedRootfs } from "@berth/mount";
import {
  generateSpecFor,
  withAnnotations,
  withDefaultSeccomp,
  withEnv,
  withHostNamespace,
  withHostname,
  withLinuxNamespace,
  withMounts,
  withoutMounts,
  withProcessArgs,
  withProcessCwd,
  withRootfsPath,
  withRootfsReadonly,
  withSeccompProfile,
  withUidGid,
  withUser,
  type LinuxSeccomp,
  type Spec,
  type SpecOpt,
} from "@berth/oci";
import type { SandboxNamespaces } from "../runtime/sandbox-controller.js";
import { K8S_NAMESPACE } from "../state/k8s-namespace.js";
import { passthroughAnnotations, sandboxSpecAnnotations } from "./sandbox-annotations.js";
import { podFiles } from "./pod-sandbox.js";

/** containerd gives the pause process a token CPU weight: it only sleeps. */
const SANDBOX_CPU_SHARES = 2;

export interface SandboxSpecInput {
  readonly id: string;
  readonly config: criApi.PodSandboxConfig;
  readonly image: { readonly name: string; readonly config: ImageConfig };
  readonly namespaces: SandboxNamespaces;
  readonly netnsPath: string;
  readonly rootDir: string;
  /** The full cgroups path for the pause container. */
  readonly cgroupsPath: string;
  readonly oomScoreAdj: number;
  /** Patterns of pod annotations the runtime handler passes through. */
  readonly podAnnotations: readonly string[];
  /** The snapshot's mounts, mounted briefly when the user must be looked up in the image. */
  readonly rootfsMounts: readonly SnapshotMount[];
  readonly signal?: AbortSignal;
}

/**
 * The pause container's OCI spec, built as containerd's CRI builds it: the default spec
 * without /run, rlimits, AppArmor or a default seccomp filter; the image's env, args and cwd;
 * read-only rootfs; the pod's hostname and namespaces (network joined by path); the pod's
 * /dev/shm and resolv.conf bound in; sysctls; a token CPU share; oom_score_adj; the pod's
 * seccomp profile and user; and the CRI annotations.
 */
export async function sandboxSpec(input: SandboxSpecInput): Promise<Spec> {
  const { config, namespaces, image } = input;
  const run = image.config.config ?? {};
  const args = [...(run.Entrypoint ?? []), ...(run.Cmd ?? [])];
  if (args.length === 0) throw invalidArgument(`sandbox image ${image.name} has neither entrypoint nor cmd`);
  const security = config.linux?.securityContext;
  const files = podFiles(input.rootDir, namespaces);

  const opts: SpecOpt[] = [
    withoutMounts("/run"),
    withoutDefaultSecuritySettings,
    withRootfsPath("rootfs"),
    withEnv(run.Env ?? []),
    withRootfsReadonly,
    withProcessArgs(...args),
  ];
  // A host-network pod shares the host's UTS namespace too, where runc cannot set a hostname.
  if (config.hostname !== "" && namespaces.network === "pod") opts.push(withHostname(config.hostname));
  if (run.WorkingDir) opts.push(withProcessCwd(run.WorkingDir));
  opts.push(withCgroupsPath(input.cgroupsPath));

  if (namespaces.network === "node") opts.push(withHostNamespace("network"), withHostNamespace("uts"));
  else opts.push(withLinuxNamespace({ type: "network", path: input.netnsPath }));
  if (namespaces.pid === "node") opts.push(withHostNamespace("pid"));
  if (namespaces.ipc === "node") opts.push(withHostNamespace("ipc"));

  const readOnlyBind = ["rbind", "ro", "nosuid", "nodev", "noexec"];
  opts.push(
    withoutMounts("/dev/shm"),
    withMounts([
      { source: files.shmPath, destination: "/dev/shm", type: "bind", options: readOnlyBind },
      { source: files.resolvConfPath, destination: "/etc/resolv.conf", type: "bind", options: readOnlyBind },
    ]),
    withSysctls(config.linux?.sysctls ?? {}),
    withSandboxCpuShares,
    withOomScoreAdj(input.oomScoreAdj),
    withAnnotations({ ...passthroughAnnotations(config.annotations, input.podAnnotations), ...sandboxSpecAnnotations(input.id, image.name, config) }),
  );
  if (security?.privileged) opts.push(withWritableSys);

  const seccomp = await seccompOpt(security);
  if (seccomp !== undefined) opts.push(seccomp);

  // The user's own groups first, then the pod's supplemental groups added to them.
  const user = userString(security) ?? run.User ?? "";
  const groups = withSupplementalGroups(security?.supplementalGroups ?? []);
  const ctx = { namespace: K8S_NAMESPACE, id: input.id, signal: input.signal };
  if (user === "") return generateSpecFor(ctx, ...opts, groups);
  const numeric = /^(\d+):(\d+)$/.exec(user);
  if (numeric) return generateSpecFor(ctx, ...opts, withUidGid(Number(numeric[1]), Number(numeric[2])), groups);
  // Names (and a uid without a gid) are looked up in the image's /etc/passwd and /etc/group.
  return withMountedRootfs(input.rootfsMounts, (rootfs) => generateSpecFor({ ...ctx, rootfs }, ...opts, withUser(user), groups), { signal: input.signal });
}

/** run_as_user[:run_as_group] from the security context; undefined when it sets no user. */
function userString(security: criApi.LinuxSandboxSecurityContext | undefined): string | undefined {
  const uid = security?.runAsUser;
  const gid = security?.runAsGroup;
  if (uid === undefined) {
    if (gid !== undefined) throw invalidArgument("run_as_group is set without run_as_user");
    return undefined;
  }
  return gid === undefined ? String(uid.value) : `${uid.value}:${gid.value}`;
}

/**
 * The pod's seccomp profile. containerd applies none to the pause container unless the pod
 * asks (no `seccomp` and no deprecated `seccomp_profile_path`), and none when privileged.
 */
async function seccompOpt(security: criApi.LinuxSandboxSecurityContext | undefined): Promise<SpecOpt | undefined> {
  if (security === undefined || security.privileged) return undefined;
  const profile = security.seccomp ?? legacySeccompProfile(security.seccompProfilePath);
  if (profile === undefined) return undefined;
  switch (profile.profileType) {
    case criApi.SecurityProfile_ProfileType.RuntimeDefault:
      return withDefaultSeccomp();
    case criApi.SecurityProfile_ProfileType.Unconfined:
      return undefined;
    case criApi.SecurityProfile_ProfileType.Localhost:
      return withSeccompProfile(await localhostSeccomp(profile.localhostRef));
    default:
      throw invalidArgument(`unsupported seccomp profile type ${String(profile.profileType)}`);
  }
}

/** The deprecated path form: "runtime/default", "docker/default", "unconfined", "localhost/<path>". */
function legacySeccompProfile(path: string): { profileType: criApi.SecurityProfile_ProfileType; localhostRef: string } | undefined {
  if (path === "") return undefined;
  if (path === "unconfined") return { profileType: criApi.SecurityProfile_ProfileType.Unconfined, localhostRef: "" };
  if (path === "runtime/default" || path === "docker/default") return { profileType: criApi.SecurityProfile_ProfileType.RuntimeDefault, localhostRef: "" };
  if (path.startsWith("localhost/")) return { profileType: criApi.SecurityProfile_ProfileType.Localhost, localhostRef: path.slice("localhost/".length) };
  throw invalidArgument(`unknown seccomp profile path "${path}"`);
}

async function localhostSeccomp(ref: string): Promise<LinuxSeccomp> {
  if (!posix.isAbsolute(ref)) throw invalidArgument(`seccomp localhost profile "${ref}" is not an absolute path`);
  const text = await readFile(ref, "utf8").catch((err: Error) => {
    throw invalidArgument(`cannot read seccomp profile ${ref}: ${err.message}`);
  });
  try {
    return JSON.parse(text) as LinuxSeccomp;
  } catch (err) {
    throw invalidArgument(`seccomp profile ${ref} is not JSON`, err);
  }
}

/** containerd's sandbox spec keeps no AppArmor profile, seccomp filter or rlimits from the defaults. */
const withoutDefaultSecuritySettings: SpecOpt = (spec) => {
  if (spec.process) {
    delete spec.process.apparmorProfile;
    delete spec.process.rlimits;
  }
  if (spec.linux) delete spec.linux.seccomp;
};

function withCgroupsPath(path: string): SpecOpt {
  return (spec) => {
    (spec.linux ??= {}).cgroupsPath = path;
  };
}

function withSupplementalGroups(groups: readonly bigint[]): SpecOpt {
  return (spec) => {
    if (!spec.process || groups.length === 0) return;
    const user = spec.process.user;
    const merged = new Set([...(user.additionalGids ?? []), ...groups.map(Number)]);
    user.additionalGids = [...merged];
  };
}

function withSysctls(sysctls: Readonly<Record<string, string>>): SpecOpt {
  return (spec) => {
    if (Object.keys(sysctls).length === 0) return;
    const linux = (spec.linux ??= {});
    linux.sysctl = { ...linux.sysctl, ...sysctls };
  };
}

const withSandboxCpuShares: SpecOpt = (spec) => {
  const resources = ((spec.linux ??= {}).resources ??= {});
  resources.cpu = { ...resources.cpu, shares: SANDBOX_CPU_SHARES };
};

function withOomScoreAdj(adj: number): SpecOpt {
  return (spec) => {
    if (spec.process) spec.process.oomScoreAdj = adj;
  };
}

/** A privileged pod's /sys is writable, as containerd makes it. */
const withWritableSys: SpecOpt = (spec) => {
  for (const m of spec.mounts ?? []) {
    if (posix.normalize(m.destination) === "/sys") m.options = (m.options ?? []).map((o) => (o === "ro" ? "rw" : o));
  }
};
