import { hostname as osHostname } from "node:os";
import { realpath } from "node:fs/promises";
import type { criApi } from "@berth/api";
import { failedPrecondition, invalidArgument } from "@berth/core";
import type { ImageConfig } from "@berth/image-spec";
import {
  generateSpecFor,
  withAdditionalGids,
  withAllDevicesAllowed,
  withAnnotations,
  withCgroup,
  withDevices,
  withEnv,
  withHostDevices,
  withLinuxNamespace,
  withMaskedPaths,
  withNewPrivileges,
  withNoNewPrivileges,
  withoutMounts,
  withPrivileged,
  withProcessArgs,
  withProcessCwd,
  withReadonlyPaths,
  withRootfsReadonly,
  withTTY,
  withUser,
  type Spec,
  type SpecOpt,
} from "@berth/oci";
import type { RuntimeHandlerConfig } from "../config/cri-config.js";
import type { SandboxView } from "../runtime/sandbox-controller.js";
import { K8S_NAMESPACE } from "../state/k8s-namespace.js";
import { criContainerAnnotations } from "./container-annotations.js";
import { podFileMounts, withCriMounts } from "./container-mounts.js";
import { cgroupsPathFor, withCriOomScoreAdj, withCriResources } from "./resource-opts.js";
import { seccompChoice, withCriCapabilities, withCriSeccomp, withoutAmbientCapabilities } from "./security-opts.js";

export interface ContainerSpecInput {
  readonly id: string;
  readonly name: string;
  readonly config: criApi.ContainerConfig;
  readonly pod: SandboxView;
  /** The image's run config (Env, Entrypoint, Cmd, WorkingDir, User). */
  readonly image: ImageConfig["config"] | undefined;
  readonly imageName: string;
  /** A mount of the container's rootfs, to read /etc/passwd and /etc/group from. */
  readonly rootfs: string;
  readonly runtime: RuntimeHandlerConfig;
  readonly restrictOomScoreAdj: boolean;
  /** The PID of the process whose PID namespace a TARGET container joins. */
  readonly targetPid?: number | undefined;
}

/**
 * The OCI spec of a container in a pod, after containerd's CRI: the default spec without /run,
 * seccomp, AppArmor or rlimits; the process from the request over the image; the pod's files
 * and the request's mounts; security context; resources under the pod's cgroup parent; the
 * pod's network, IPC, UTS (and PID) namespaces joined through the pause process; and the
 * annotations containerd writes.
 */
export async function buildContainerSpec(input: ContainerSpecInput): Promise<Spec> {
  const { config, pod } = input;
  const sc = config.linux?.securityContext;
  const podSc = pod.config.linux?.securityContext;
  if (pod.pid <= 0) throw failedPrecondition(`sandbox ${pod.id} has no running pause process`);
  if (sc?.privileged && !podSc?.privileged) throw invalidArgument("no privileged container allowed in sandbox");

  const opts: SpecOpt[] = [
    withoutMounts("/run"),
    withoutDefaultSecuritySettings,
    withProcessArgs(...processArgs(config, input.image)),
    withNewPrivileges,
  ];
  const cwd = config.workingDir || input.image?.WorkingDir || "";
  if (cwd !== "") opts.push(withProcessCwd(cwd));
  if (config.tty) opts.push(withTTY);
  opts.push(withEnv([`HOSTNAME=${pod.config.hostname || osHostname()}`]));
  opts.push(withEnv([...(input.image?.Env ?? []), ...config.envs.map((e) => `${e.key}=${e.value}`)]));
  opts.push(withCriMounts([...config.mounts, ...podFileMounts(pod, config)]));
  // containerd's CRI masks nothing by default; the kubelet sends the paths it wants.
  opts.push(withMaskedPaths(sc?.maskedPaths ?? []), withReadonlyPaths(sc?.readonlyPaths ?? []));
  for (const d of config.devices) opts.push(withResolvedDevice(d));
  opts.push(withCriCapabilities(sc?.capabilities));
  if (sc?.privileged) {
    opts.push(withPrivileged);
    if (!input.runtime.privilegedWithoutHostDevices) opts.push(withHostDevices, withAllDevicesAllowed);
  }
  opts.push(withoutAmbientCapabilities);
  if (sc?.noNewPrivs) opts.push(withNoNewPrivileges);
  if (sc?.readonlyRootfs) opts.push(withRootfsReadonly);
  opts.push(withCriResources(config.linux?.resources));
  if (pod.cgroupParent !== "") opts.push(withCgroup(cgroupsPathFor(pod.cgroupParent, input.id)));
  opts.push(withCriOomScoreAdj(config.linux?.resources, input.restrictOomScoreAdj));
  opts.push(withPodNamespaces(sc?.namespaceOptions, pod.pid, input.targetPid ?? pod.pid));
  opts.push(withAnnotations(passthrough(pod.config.annotations, input.runtime.podAnnotations)));
  opts.push(withAnnotations(passthrough(config.annotations, input.runtime.containerAnnotations)));
  opts.push(withAnnotations(criContainerAnnotations({ id: pod.id, name: input.name, imageName: input.imageName, pod: pod.config })));
  // What containerd applies on top of that spec: the user, then seccomp (after capabilities).
  opts.push(...userOpts(sc, input.image?.User ?? ""));
  opts.push(withCriSeccomp(seccompChoice(sc)));
  return generateSpecFor({ namespace: K8S_NAMESPACE, id: input.id, rootfs: input.rootfs }, ...opts);
}

/** command + args, falling back to the image's Entrypoint and Cmd as Kubernetes defines. */
function processArgs(config: criApi.ContainerConfig, image: ContainerSpecInput["image"]): string[] {
  let command = [...config.command];
  let args = [...config.args];
  if (command.length === 0) {
    if (args.length === 0) args = [...(image?.Cmd ?? [])];
    const entrypoint = image?.Entrypoint ?? [];
    if (!(entrypoint.length === 1 && entrypoint[0] === "")) command = [...entrypoint];
  }
  if (command.length === 0 && args.length === 0) throw invalidArgument("no command specified");
  return [...command, ...args];
}

/** Drops what the default spec sets that the CRI leaves to the request: AppArmor, seccomp, rlimits. */
const withoutDefaultSecuritySettings: SpecOpt = (spec) => {
  if (spec.process) {
    delete spec.process.apparmorProfile;
    delete spec.process.rlimits;
  }
  if (spec.linux) delete spec.linux.seccomp;
};

function withResolvedDevice(d: criApi.Device): SpecOpt {
  return async (spec, ctx) => {
    const host = await realpath(d.hostPath).catch(() => d.hostPath);
    await withDevices(host, d.containerPath, d.permissions || "rwm")(spec, ctx);
  };
}

/** The pod's namespaces through its pause process; PID too unless the container wants its own. */
function withPodNamespaces(ns: criApi.NamespaceOption | undefined, podPid: number, targetPid: number): SpecOpt {
  const opts: SpecOpt[] = [
    withLinuxNamespace({ type: "network", path: `/proc/${podPid}/ns/net` }),
    withLinuxNamespace({ type: "ipc", path: `/proc/${podPid}/ns/ipc` }),
    withLinuxNamespace({ type: "uts", path: `/proc/${podPid}/ns/uts` }),
  ];
  const pidMode = ns?.pid ?? 0;
  if (pidMode !== 1) opts.push(withLinuxNamespace({ type: "pid", path: `/proc/${pidMode === 3 ? targetPid : podPid}/ns/pid` }));
  return async (spec, ctx) => {
    for (const o of opts) await o(spec, ctx);
  };
}

/**
 * The user: run_as_username, else run_as_user (with run_as_group), else the image's User,
 * resolved in the image; then the user's groups from the image's /etc/group and the
 * supplemental groups, merged and sorted as containerd does.
 */
function userOpts(sc: criApi.LinuxContainerSecurityContext | undefined, imageUser: string): SpecOpt[] {
  let user = "";
  if (sc?.runAsUsername) user = sc.runAsUsername;
  else if (sc?.runAsUser !== undefined) user = String(sc.runAsUser.value);
  if (sc?.runAsGroup !== undefined) {
    if (user === "") throw invalidArgument("user group is specified without user or username");
    user = `${user}:${sc.runAsGroup.value}`;
  }
  if (user === "") user = imageUser;
  const name = user === "" ? "0" : user.split(":")[0]!;
  const opts: SpecOpt[] = [user === "" ? () => {} : withUser(user), withAdditionalGids(name)];
  const supplemental = (sc?.supplementalGroups ?? []).map(Number);
  opts.push((spec) => {
    const p = spec.process;
    if (p === undefined) return;
    const gids = new Set([...(p.user.additionalGids ?? []), ...supplemental]);
    p.user = { ...p.user, additionalGids: [...gids].sort((a, b) => a - b) };
  });
  return opts;
}

/** The annotations of `from` whose keys match `patterns` (a `*` matches any run of characters). */
function passthrough(from: Readonly<Record<string, string>>, patterns: readonly string[]): Record<string, string> {
  if (patterns.length === 0) return {};
  const res = patterns.map((p) => new RegExp(`^${p.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(from)) if (res.some((r) => r.test(k))) out[k] = v;
  return out;
}
