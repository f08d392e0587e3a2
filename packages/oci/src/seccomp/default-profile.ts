import type { LinuxSeccomp, LinuxSyscall, SeccompArch, Spec } from "../runtime-spec.js";
import { ALWAYS_ALLOWED_SYSCALLS } from "./always-allowed.js";
import { currentSeccompHost, kernelAtLeast, type SeccompHost } from "./host.js";

const ENOSYS = 38;
const AF_ALG = 38;
const AF_VSOCK = 40;
// CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP
const CLONE_NAMESPACE_FLAGS = 0x20000 | 0x4000000 | 0x8000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x2000000;

const allow = (...names: string[]): LinuxSyscall => ({ names, action: "SCMP_ACT_ALLOW" });

/**
 * The ABIs a process on this CPU can call the kernel through: all must be filtered, or a 32-bit
 * syscall would slip past a 64-bit-only filter. Node's arch names, containerd's choices.
 */
function architectures(nodeArch: string): SeccompArch[] {
  switch (nodeArch) {
    case "x64":
      return ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"];
    case "arm64":
      return ["SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64"];
    case "s390x":
      return ["SCMP_ARCH_S390", "SCMP_ARCH_S390X"];
    case "riscv64":
      return ["SCMP_ARCH_RISCV64"];
    case "loong64":
      return ["SCMP_ARCH_LOONGARCH64"];
    default:
      return [];
  }
}

/** System calls only some CPUs have, which their C libraries need. */
function archSyscalls(nodeArch: string): LinuxSyscall[] {
  switch (nodeArch) {
    case "ppc64": // Node's name for ppc64le
      return [allow("sync_file_range2", "swapcontext")];
    case "arm":
    case "arm64":
      return [allow("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls")];
    case "x64":
      return [allow("arch_prctl", "modify_ldt")];
    case "ia32":
      return [allow("modify_ldt")];
    case "s390x":
      return [allow("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr")];
    case "riscv64":
      return [allow("riscv_flush_icache", "riscv_hwprobe")];
    default:
      return [];
  }
}

/** What each capability makes safe to allow: the call is useless or refused without it anyway. */
const SYSCALLS_BY_CAPABILITY: Readonly<Record<string, readonly string[]>> = {
  CAP_DAC_READ_SEARCH: ["open_by_handle_at"],
  CAP_SYS_ADMIN: [
    "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie", "mount",
    "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd", "setdomainname",
    "sethostname", "setns", "syslog", "umount", "umount2", "unshare",
  ],
  CAP_SYS_BOOT: ["reboot"],
  CAP_SYS_CHROOT: ["chroot"],
  CAP_SYS_MODULE: ["delete_module", "init_module", "finit_module"],
  CAP_SYS_PACCT: ["acct"],
  CAP_SYS_PTRACE: ["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"],
  CAP_SYS_RAWIO: ["iopl", "ioperm"],
  CAP_SYS_TIME: ["settimeofday", "stime", "clock_settime", "clock_settime64"],
  CAP_SYS_TTY_CONFIG: ["vhangup"],
  CAP_SYS_NICE: ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"],
  CAP_SYSLOG: ["syslog"],
  CAP_BPF: ["bpf"],
  CAP_PERFMON: ["perf_event_open"],
};

/**
 * containerd's default seccomp profile for `spec` (it reads the bounding capabilities, so apply it
 * after the options that change them): deny with EPERM by default; allow the common calls, socket
 * except AF_ALG and AF_VSOCK, the harmless personalities, ptrace on kernels >= 4.8 (where it can no
 * longer bypass seccomp), the CPU's own calls, the calls each held capability makes safe; and
 * without CAP_SYS_ADMIN, clone only without namespace flags and clone3 failing with ENOSYS so C
 * libraries fall back to clone.
 */
export function defaultSeccompProfile(spec: Spec, host: SeccompHost = currentSeccompHost()): LinuxSeccomp {
  const syscalls: LinuxSyscall[] = [
    allow(...ALWAYS_ALLOWED_SYSCALLS),
    // Three single-condition rules, not one with two "!=" conditions: runc would OR those.
    { names: ["socket"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: AF_ALG, op: "SCMP_CMP_LT" }] },
    { names: ["socket"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: AF_ALG + 1, op: "SCMP_CMP_EQ" }] },
    { names: ["socket"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: AF_VSOCK, op: "SCMP_CMP_GT" }] },
    // PER_LINUX, PER_LINUX32, UNAME26, PER_LINUX32|UNAME26, and 0xffffffff (query only).
    ...[0x0, 0x0008, 0x20000, 0x20008, 0xffffffff].map(
      (value): LinuxSyscall => ({ names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value, op: "SCMP_CMP_EQ" }] }),
    ),
  ];
  if (kernelAtLeast(host.kernelRelease, 4, 8)) syscalls.push(allow("process_vm_readv", "process_vm_writev", "ptrace"));
  syscalls.push(...archSyscalls(host.arch));

  const bounding = spec.process?.capabilities?.bounding ?? [];
  for (const cap of bounding) {
    const names = SYSCALLS_BY_CAPABILITY[cap];
    if (names) syscalls.push(allow(...names));
  }
  if (!bounding.includes("CAP_SYS_ADMIN")) {
    // s390's clone takes the flags as its second argument.
    const index = host.arch === "s390x" ? 1 : 0;
    syscalls.push({
      names: ["clone"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index, value: CLONE_NAMESPACE_FLAGS, op: "SCMP_CMP_MASKED_EQ" }], // (arg & mask) == 0
    });
    syscalls.push({ names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: ENOSYS });
  }

  const archs = architectures(host.arch);
  return { defaultAction: "SCMP_ACT_ERRNO", ...(archs.length > 0 ? { architectures: archs } : {}), syscalls };
}
