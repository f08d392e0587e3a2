import { posix } from "node:path";
import { invalidArgument } from "@berth/core";
import type { LinuxNamespace, Mount, Spec } from "./runtime-spec.js";

/**
 * The runtime-spec version Berth's specs declare. runc reads any 1.x config; the types here follow
 * runtime-spec 1.2.
 */
export const OCI_VERSION = "1.2.0";

/** PATH for a container whose image sets no environment, as containerd sets it. */
export const DEFAULT_UNIX_ENV: readonly string[] = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"];

/** The capabilities containerd gives an unprivileged container (the same set as Docker's). */
export function defaultCapabilities(): string[] {
  return [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
  ];
}

/** A container gets its own pid, ipc, uts, mount and network namespaces; user and cgroup are opt-in. */
export function defaultNamespaces(): LinuxNamespace[] {
  return [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }, { type: "network" }];
}

/** The filesystems every container gets, small and locked down (sysfs read-only). */
export function defaultMounts(): Mount[] {
  const tmpfs = (destination: string): Mount => ({
    destination,
    type: "tmpfs",
    source: "tmpfs",
    options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
  });
  return [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    tmpfs("/dev"),
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
    tmpfs("/run"),
  ];
}

/** Kernel files that leak host information or offer attack surface: hidden from the container. */
export function defaultMaskedPaths(): string[] {
  return [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    // Energy counters (RAPL) reveal what other processes compute (CVE-2020-8694).
    "/sys/devices/virtual/powercap",
    "/proc/scsi",
  ];
}

/** Kernel files a container may read but must not change. */
export function defaultReadonlyPaths(): string[] {
  return ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];
}

/** `/<namespace>/<id>`: where containerd puts a container's cgroup by default. */
export function namespacedCgroupsPath(namespace: string, id: string): string {
  return posix.join("/", namespace, id);
}

/**
 * containerd's default Linux spec for container `id` in `namespace` (its populateDefaultUnixSpec):
 * root 0:0 in "/", the default capabilities, no new privileges, 1024 open files, the default
 * mounts, masked and read-only paths, every device denied, new pid/ipc/uts/mount/network
 * namespaces and the cgroup `/<namespace>/<id>`. No args, env, seccomp or hostname: options add
 * those.
 */
export function defaultSpec(namespace: string, id: string): Spec {
  if (namespace === "") throw invalidArgument("a namespace is required to generate a spec");
  return {
    ociVersion: OCI_VERSION,
    root: { path: "rootfs" },
    process: {
      cwd: "/",
      noNewPrivileges: true,
      user: { uid: 0, gid: 0 },
      capabilities: {
        bounding: defaultCapabilities(),
        permitted: defaultCapabilities(),
        effective: defaultCapabilities(),
      },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
    },
    mounts: defaultMounts(),
    linux: {
      maskedPaths: defaultMaskedPaths(),
      readonlyPaths: defaultReadonlyPaths(),
      cgroupsPath: namespacedCgroupsPath(namespace, id),
      resources: { devices: [{ allow: false, access: "rwm" }] },
      namespaces: defaultNamespaces(),
    },
  };
}
