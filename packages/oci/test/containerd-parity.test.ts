import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import {
  generateSpec,
  OCI_VERSION,
  specToJSON,
  withAddedCapabilities,
  withAnnotations,
  withCPUCount,
  withDefaultSeccomp,
  withDefaultUnixDevices,
  withDevices,
  withDroppedCapabilities,
  withEnv,
  withHostHostsFile,
  withHostNamespace,
  withHostResolvConf,
  withLinuxNamespace,
  withMemoryLimit,
  withMounts,
  withNewPrivileges,
  withPrivileged,
  withPrivilegedDevices,
  withProcessArgs,
  withProcessCwd,
  withRootfsPath,
  withRootfsReadonly,
  withTTY,
  type LinuxSeccomp,
  type LinuxSyscall,
  type SpecOpt,
} from "../src/index.js";
import { startPrivateContainerd, tempDir, type PrivateContainerd } from "./helpers.js";

type Json = Record<string, unknown>;

/** The spec Debian's containerd stores for `ctr containers create --rootfs <flags> ROOTFS ID ARGS`. */
async function containerdSpec(containerd: PrivateContainerd, id: string, flags: string[], rootfs: string, args: string[]): Promise<Json> {
  await containerd.ctr(["containers", "create", "--rootfs", ...flags, rootfs, id, ...args]);
  const info = JSON.parse(await containerd.ctr(["containers", "info", id])) as { Spec: Json };
  return info.Spec;
}

/** What ctr does for every container before its flags. */
const ctrBaseline = (rootfs: string): SpecOpt[] => [withDefaultUnixDevices, withRootfsPath(rootfs)];

async function berthSpec(id: string, ...opts: SpecOpt[]): Promise<Json> {
  return JSON.parse(specToJSON(await generateSpec("berth-test", id, ...opts))) as Json;
}

// containerd 2.x's default profile against 1.6's (what Debian ships): Berth follows 2.x.
const ALLOWED_SINCE_1_6 = [
  "cachestat", "fchmodat2", "futex_requeue", "futex_wait", "futex_wake", "getxattrat", "listmount", "listxattrat",
  "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr", "map_shadow_stack", "mseal", "name_to_handle_at",
  "removexattrat", "setxattrat", "statmount", "uretprobe",
];
// io_uring was dropped (a steady source of kernel exploits); socket moved to the rules with arguments.
const NO_LONGER_ALWAYS_ALLOWED = ["io_uring_enter", "io_uring_register", "io_uring_setup", "socket"];

/**
 * containerd 1.6's default seccomp profile rewritten as containerd 2.x's, one documented change at
 * a time (see contrib/seccomp/seccomp_default.go between v1.6.20 and 2.x), names sorted in each rule.
 */
function as2xProfile(profile: LinuxSeccomp): LinuxSeccomp {
  const [common, ...rest] = profile.syscalls ?? [];
  if (!common) throw new Error("containerd's profile has no rules");
  const names = common.names.filter((n) => !NO_LONGER_ALWAYS_ALLOWED.includes(n)).concat(ALLOWED_SINCE_1_6);
  const socketRule = (value: number, op: "SCMP_CMP_LT" | "SCMP_CMP_EQ" | "SCMP_CMP_GT"): LinuxSyscall => ({
    names: ["socket"],
    action: "SCMP_ACT_ALLOW",
    args: [{ index: 0, value, op }],
  });
  const rewritten = rest.map((rule): LinuxSyscall => {
    const n = rule.names;
    // The kernel >= 4.8 ptrace rule also allows process_vm_readv/writev now.
    if (n.length === 1 && n[0] === "ptrace" && !rule.args) return { ...rule, names: ["process_vm_readv", "process_vm_writev", "ptrace"] };
    // CAP_SYS_ADMIN's rule: name_to_handle_at moved to the common rule.
    if (n.includes("unshare")) return { ...rule, names: n.filter((x) => x !== "name_to_handle_at") };
    // CAP_SYS_NICE's rule gained set_mempolicy_home_node.
    if (n.includes("mbind")) return { ...rule, names: [...n, "set_mempolicy_home_node"] };
    return rule;
  });
  return normalized({
    ...profile,
    syscalls: [
      { ...common, names },
      socketRule(38, "SCMP_CMP_LT"), // below AF_ALG
      socketRule(39, "SCMP_CMP_EQ"), // between AF_ALG and AF_VSOCK
      socketRule(40, "SCMP_CMP_GT"), // above AF_VSOCK
      ...rewritten,
    ],
  });
}

function normalized(profile: LinuxSeccomp): LinuxSeccomp {
  return { ...profile, syscalls: (profile.syscalls ?? []).map((r) => ({ ...r, names: [...r.names].sort() })) };
}

/** Both specs with their seccomp profiles taken out: 1.6's rewritten as 2.x's, Berth's normalised. */
function splitSeccomp(theirs: Json, ours: Json): { theirs: Json; ours: Json; theirProfile?: LinuxSeccomp; ourProfile?: LinuxSeccomp } {
  const take = (spec: Json) => {
    const { seccomp, ...linux } = spec["linux"] as Json & { seccomp?: LinuxSeccomp };
    return { spec: { ...spec, linux }, seccomp };
  };
  const t = take(theirs);
  const o = take(ours);
  return {
    theirs: t.spec,
    ours: o.spec,
    ...(t.seccomp ? { theirProfile: as2xProfile(t.seccomp) } : {}),
    ...(o.seccomp ? { ourProfile: normalized(o.seccomp) } : {}),
  };
}

/** The differences of the default spec itself (see default-spec.test.ts). */
function specAs2x(spec: Json): Json {
  const linux = spec["linux"] as Json & { maskedPaths?: string[] };
  const maskedPaths = linux.maskedPaths && [...linux.maskedPaths];
  maskedPaths?.splice(maskedPaths.indexOf("/sys/firmware") + 1, 0, "/sys/devices/virtual/powercap");
  return { ...spec, ociVersion: OCI_VERSION, linux: { ...linux, ...(maskedPaths ? { maskedPaths } : {}) } };
}

function expectSameSpec(theirs: Json, ours: Json, opts: { seccomp: boolean }): void {
  const split = splitSeccomp(specAs2x(theirs), ours);
  expect(split.theirProfile !== undefined, "containerd's spec has a seccomp profile").toBe(opts.seccomp);
  for (const field of new Set([...Object.keys(split.theirs), ...Object.keys(split.ours)])) {
    expect.soft(split.ours[field], field).toEqual(split.theirs[field]);
  }
  expect(split.ourProfile).toEqual(split.theirProfile);
}

describe("specs as containerd makes them for ctr (Debian's containerd 1.6.20, private instance)", () => {
  it("a plain container, with and without the default seccomp profile", async () => {
    const containerd = await startPrivateContainerd();
    const rootfs = await tempDir();
    for (const [id, flags, extra, seccomp] of [
      ["plain", [], [], false],
      ["seccomp", ["--seccomp"], [withDefaultSeccomp()], true],
    ] as const) {
      const theirs = await containerdSpec(containerd, id, [...flags], rootfs, ["sh"]);
      const ours = await berthSpec(id, ...ctrBaseline(rootfs), withProcessArgs("sh"), ...extra);
      expectSameSpec(theirs, ours, { seccomp });
    }
  });

  it("env, cwd, tty, read-only, mounts, annotations, capabilities, limits, namespaces and seccomp together", async () => {
    const containerd = await startPrivateContainerd();
    const rootfs = await tempDir();
    const flags = [
      "--env", "A=1", "--env", "B=two words",
      "--mount", "type=bind,src=/tmp,dst=/host,options=rbind:ro",
      "--read-only", "--cwd", "/work", "--tty",
      "--annotation", "berth.test/a=1",
      "--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_SYS_NICE", "--cap-add", "CAP_SYS_PTRACE", "--cap-drop", "CAP_NET_RAW",
      "--seccomp", "--cpu-quota", "150000", "--cpu-period", "100000", "--device", "/dev/null",
      "--with-ns", "network:/proc/1/ns/net", "--allow-new-privs", "--memory-limit", "67108864",
      "--label", "berth.test/label=x",
    ];
    const theirs = await containerdSpec(containerd, "rich", flags, rootfs, ["sh", "-x"]);
    const ours = await berthSpec(
      "rich",
      ...ctrBaseline(rootfs),
      withEnv(["A=1", "B=two words"]),
      withMounts([{ type: "bind", source: "/tmp", destination: "/host", options: ["rbind", "ro"] }]),
      withRootfsReadonly,
      withProcessArgs("sh", "-x"),
      withProcessCwd("/work"),
      withTTY,
      withAnnotations({ "berth.test/a": "1" }),
      withAddedCapabilities(["CAP_SYS_ADMIN", "CAP_SYS_NICE", "CAP_SYS_PTRACE"]),
      withDroppedCapabilities(["CAP_NET_RAW"]),
      withDefaultSeccomp(),
      withCPUCount(1.5),
      withLinuxNamespace({ type: "network", path: "/proc/1/ns/net" }),
      withNewPrivileges,
      withMemoryLimit(67108864),
      withDevices("/dev/null"),
      withAnnotations({ "berth.test/label": "x" }),
    );
    expectSameSpec(theirs, ours, { seccomp: true });
  });

  it("a privileged container: the caller's capabilities, no seccomp, masks or read-only paths, the host's devices", async () => {
    const containerd = await startPrivateContainerd();
    const rootfs = await tempDir();
    const theirs = await containerdSpec(containerd, "priv", ["--privileged"], rootfs, ["sh"]);
    const ours = await berthSpec("priv", ...ctrBaseline(rootfs), withProcessArgs("sh"), withPrivileged, withPrivilegedDevices);
    expectSameSpec(theirs, ours, { seccomp: false });
  });

  it("host networking", async () => {
    const containerd = await startPrivateContainerd();
    const rootfs = await tempDir();
    const theirs = await containerdSpec(containerd, "net", ["--net-host"], rootfs, ["sh"]);
    const ours = await berthSpec(
      "net",
      ...ctrBaseline(rootfs),
      withProcessArgs("sh"),
      withHostNamespace("network"),
      withHostHostsFile,
      withHostResolvConf,
      withEnv([`HOSTNAME=${hostname()}`]),
    );
    expectSameSpec(theirs, ours, { seccomp: false });
  });
});
