import { existsSync } from "node:fs";
import { mkdir, realpath, stat } from "node:fs/promises";
import { posix } from "node:path";
import { criApi } from "@berth/api";
import { create } from "@bufbuild/protobuf";
import type { Mount, Spec, SpecOpt } from "@berth/oci";
import type { SandboxView } from "../runtime/sandbox-controller.js";

const clean = (p: string) => posix.normalize(p).replace(/(.)\/$/, "$1");

/**
 * The pod's /etc/hostname, /etc/hosts, /etc/resolv.conf and /dev/shm as bind mounts, each unless
 * the container mounts that path itself or the pod has no such file; read-only with a read-only
 * rootfs (but /dev/shm). With the host's IPC namespace the host's /dev/shm is shared instead.
 */
export function podFileMounts(pod: SandboxView, config: criApi.ContainerConfig): criApi.Mount[] {
  const own = new Set(config.mounts.map((m) => clean(m.containerPath)));
  const sc = config.linux?.securityContext;
  const readonly = sc?.readonlyRootfs ?? false;
  const out: criApi.Mount[] = [];
  const add = (containerPath: string, hostPath: string, ro: boolean) => {
    if (own.has(containerPath) || hostPath === "" || !existsSync(hostPath)) return;
    out.push(create(criApi.MountSchema, { containerPath, hostPath, readonly: ro }));
  };
  add("/etc/hostname", pod.hostnamePath, readonly);
  add("/etc/hosts", pod.hostsPath, readonly);
  add("/etc/resolv.conf", pod.resolvConfPath, readonly);
  const hostIpc = sc?.namespaceOptions?.ipc === 2; // NODE
  add("/dev/shm", hostIpc ? "/dev/shm" : pod.shmPath, false);
  return out;
}

/**
 * The CRI's mounts as the spec's: the default mounts the container replaces are dropped (all of
 * /dev/* when it mounts /dev), /sys/fs/cgroup is added read-only, then every CRI mount as an
 * rbind, shallowest first, its host path created when missing and its symlinks resolved, with
 * its propagation (bidirectional and host-to-container also make the rootfs rshared or rslave,
 * so mounts can travel through it). SELinux relabelling and id mappings are not applied.
 */
export function withCriMounts(mounts: readonly criApi.Mount[]): SpecOpt {
  return async (spec) => {
    const ordered = [...mounts].sort((a, b) => depth(a.containerPath) - depth(b.containerPath));
    const targets = new Set(ordered.map((m) => clean(m.containerPath)));
    const defaults: Mount[] = [...(spec.mounts ?? []), { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"] }];
    const kept = defaults.filter((m) => {
      const dst = clean(m.destination);
      if (targets.has(dst)) return false;
      return !(targets.has("/dev") && dst.startsWith("/dev/"));
    });
    const added: Mount[] = [];
    for (const m of ordered) {
      let source = m.hostPath;
      if (!(await stat(source).then(() => true, () => false))) await mkdir(source, { recursive: true, mode: 0o755 });
      source = await realpath(source);
      added.push({ destination: m.containerPath, type: "bind", source, options: ["rbind", propagationOption(spec, m.propagation), m.readonly ? "ro" : "rw"] });
    }
    spec.mounts = [...kept, ...added];
  };
}

function depth(p: string): number {
  return clean(p).split("/").length - 1;
}

/** The mount option for a CRI propagation mode; raises the rootfs propagation to match. */
function propagationOption(spec: Spec, mode: criApi.MountPropagation): string {
  const linux = (spec.linux ??= {});
  switch (mode) {
    case 2: // BIDIRECTIONAL
      linux.rootfsPropagation = "rshared";
      return "rshared";
    case 1: // HOST_TO_CONTAINER
      if (linux.rootfsPropagation !== "rshared" && linux.rootfsPropagation !== "rslave") linux.rootfsPropagation = "rslave";
      return "rslave";
    default:
      return "rprivate";
  }
}
