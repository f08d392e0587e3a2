import { describe, expect, it } from "vitest";
import { defaultSeccompProfile, defaultSpec, generateSpec, withAddedCapabilities, withDefaultSeccomp, withPrivileged, withSeccompProfile, withSeccompUnconfined, type LinuxSeccomp } from "../src/index.js";

const spec = defaultSpec("ns", "c");
const profileFor = (arch: string, kernelRelease = "6.1.0") => defaultSeccompProfile(spec, { arch, kernelRelease });
const ruleNames = (p: LinuxSeccomp) => (p.syscalls ?? []).map((r) => r.names.join(","));

describe("the default seccomp profile", () => {
  it("denies by default with EPERM and covers every ABI of the CPU", () => {
    const x64 = profileFor("x64");
    expect(x64.defaultAction).toBe("SCMP_ACT_ERRNO");
    expect(x64.defaultErrnoRet).toBeUndefined(); // EPERM, runc's default for SCMP_ACT_ERRNO
    expect(x64.architectures).toEqual(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
    expect(profileFor("arm64").architectures).toEqual(["SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64"]);
    expect(profileFor("s390x").architectures).toEqual(["SCMP_ARCH_S390", "SCMP_ARCH_S390X"]);
    expect(profileFor("riscv64").architectures).toEqual(["SCMP_ARCH_RISCV64"]);
    expect(profileFor("loong64").architectures).toEqual(["SCMP_ARCH_LOONGARCH64"]);
    expect(profileFor("ppc64").architectures).toBeUndefined();
  });

  it("adds each CPU's own calls", () => {
    expect(ruleNames(profileFor("x64"))).toContain("arch_prctl,modify_ldt");
    expect(ruleNames(profileFor("arm64"))).toContain("arm_fadvise64_64,arm_sync_file_range,sync_file_range2,breakpoint,cacheflush,set_tls");
    expect(ruleNames(profileFor("ia32"))).toContain("modify_ldt");
    expect(ruleNames(profileFor("x64"))).not.toContain("modify_ldt");
  });

  it("allows ptrace only on kernels >= 4.8, where it cannot bypass seccomp", () => {
    expect(ruleNames(profileFor("x64", "4.8.0"))).toContain("process_vm_readv,process_vm_writev,ptrace");
    expect(ruleNames(profileFor("x64", "4.4.0-210-generic"))).not.toContain("process_vm_readv,process_vm_writev,ptrace");
    expect(ruleNames(profileFor("x64", "weird"))).not.toContain("process_vm_readv,process_vm_writev,ptrace");
  });

  it("without CAP_SYS_ADMIN: clone without namespace flags, clone3 fails with ENOSYS", () => {
    const rules = profileFor("x64").syscalls ?? [];
    expect(rules.find((r) => r.names[0] === "clone")).toEqual({
      names: ["clone"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index: 0, value: 0x7e020000, op: "SCMP_CMP_MASKED_EQ" }],
    });
    expect(rules.find((r) => r.names[0] === "clone3")).toEqual({ names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38 });
    // s390's clone has its flags in the second argument.
    expect(profileFor("s390x").syscalls?.find((r) => r.names[0] === "clone")?.args?.[0]?.index).toBe(1);
  });

  it("socket for every address family but AF_ALG and AF_VSOCK, with single-condition rules", () => {
    const sockets = (profileFor("x64").syscalls ?? []).filter((r) => r.names.includes("socket"));
    expect(sockets.map((r) => r.args)).toEqual([
      [{ index: 0, value: 38, op: "SCMP_CMP_LT" }],
      [{ index: 0, value: 39, op: "SCMP_CMP_EQ" }],
      [{ index: 0, value: 40, op: "SCMP_CMP_GT" }],
    ]);
  });

  it("follows the bounding capabilities of the spec as it stands", async () => {
    const admin = await generateSpec("ns", "c", withAddedCapabilities(["CAP_SYS_ADMIN", "CAP_SYS_TIME"]), withDefaultSeccomp({ arch: "x64", kernelRelease: "6.1" }));
    const names = ruleNames(admin.linux?.seccomp as LinuxSeccomp);
    expect(names.some((n) => n.includes("mount") && n.includes("unshare"))).toBe(true);
    expect(names).toContain("settimeofday,stime,clock_settime,clock_settime64");
    expect(names).not.toContain("clone3");
    const plain = ruleNames(profileFor("x64"));
    expect(plain).toContain("chroot"); // CAP_SYS_CHROOT is a default capability
    expect(plain.some((n) => n.includes("unshare"))).toBe(false);
  });

  it("allows no call twice in its unconditional rule, and none of the dangerous ones", () => {
    const [common] = profileFor("x64").syscalls ?? [];
    const names = common?.names ?? [];
    expect(new Set(names).size).toBe(names.length);
    for (const denied of ["mount", "umount2", "unshare", "setns", "kexec_load", "init_module", "bpf", "io_uring_setup", "socket", "ptrace", "reboot"]) {
      expect(names).not.toContain(denied);
    }
  });

  it("can be replaced or removed", async () => {
    const custom: LinuxSeccomp = { defaultAction: "SCMP_ACT_ALLOW" };
    const a = await generateSpec("ns", "c", withDefaultSeccomp(), withSeccompProfile(custom));
    expect(a.linux?.seccomp).toEqual(custom);
    const b = await generateSpec("ns", "c", withDefaultSeccomp(), withSeccompUnconfined);
    expect(b.linux?.seccomp).toBeUndefined();
    const c = await generateSpec("ns", "c", withDefaultSeccomp(), withPrivileged);
    expect(c.linux?.seccomp).toBeUndefined();
  });
});
