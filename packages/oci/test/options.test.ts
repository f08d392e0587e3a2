import { describe, expect, it } from "vitest";
import { classOf } from "@berth/core";
import {
  composeSpecOpts,
  defaultCapabilities,
  devicesAt,
  generateSpec,
  KNOWN_CAPABILITIES,
  splitDeviceNumber,
  withAddedCapabilities,
  withAllKnownCapabilities,
  withAmbientCapabilities,
  withAnnotations,
  withCapabilities,
  withCgroup,
  withCPUCFS,
  withCPUs,
  withCPUShares,
  withDevShmSize,
  withDomainname,
  withDroppedCapabilities,
  withHostname,
  withHostNamespace,
  withLinuxDevice,
  withLinuxNamespace,
  withMaskedPaths,
  withMemoryLimit,
  withMemorySwap,
  withMounts,
  withNamespacedCgroup,
  withoutMounts,
  withParentCgroupDevices,
  withPidsLimit,
  withProcessArgs,
  withRlimit,
  withRootfsReadonly,
  withTTYSize,
  withUserNamespace,
  withWritableSysfs,
  type Spec,
  type SpecOpt,
} from "../src/index.js";

const gen = (...opts: SpecOpt[]) => generateSpec("ns", "c1", ...opts);

function thrownClass(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return classOf(err);
  }
  return "no error";
}

describe("process options", () => {
  it("withRlimit replaces a limit of the same type and appends others", async () => {
    const spec = await gen(withRlimit({ type: "RLIMIT_NOFILE", soft: 4096, hard: 8192 }), withRlimit({ type: "RLIMIT_CORE", soft: 0, hard: 0 }));
    expect(spec.process?.rlimits).toEqual([
      { type: "RLIMIT_NOFILE", soft: 4096, hard: 8192 },
      { type: "RLIMIT_CORE", soft: 0, hard: 0 },
    ]);
    expect(thrownClass(() => withRlimit({ type: "NOFILE", soft: 1, hard: 1 }))).toBe("InvalidArgument");
    expect(thrownClass(() => withRlimit({ type: "RLIMIT_NOFILE", soft: 2, hard: 1 }))).toBe("InvalidArgument");
  });

  it("later options win, and compose keeps the order", async () => {
    const spec = await gen(composeSpecOpts(withProcessArgs("a"), withProcessArgs("b", "c")), withTTYSize(80, 24));
    expect(spec.process?.args).toEqual(["b", "c"]);
    expect(spec.process?.consoleSize).toEqual({ width: 80, height: 24 });
  });

  it("options create the sections they need in a bare spec", async () => {
    const bare: Spec = { ociVersion: "1.2.0" };
    for (const opt of [withProcessArgs("x"), withRootfsReadonly, withMaskedPaths(["/a"]), withAddedCapabilities(["CAP_KILL"])]) {
      await opt(bare, { namespace: "ns", id: "c" });
    }
    expect(bare).toEqual({
      ociVersion: "1.2.0",
      process: { user: { uid: 0, gid: 0 }, cwd: "", args: ["x"], capabilities: { bounding: ["CAP_KILL"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"] } },
      root: { path: "", readonly: true },
      linux: { maskedPaths: ["/a"] },
    });
  });
});

describe("capabilities", () => {
  it("adds without duplicates and drops from every set", async () => {
    const spec = await gen(withAddedCapabilities(["CAP_SYS_ADMIN", "CAP_KILL"]), withDroppedCapabilities(["CAP_NET_RAW"]));
    const expected = [...defaultCapabilities().filter((c) => c !== "CAP_NET_RAW"), "CAP_SYS_ADMIN"];
    expect(spec.process?.capabilities).toEqual({ bounding: expected, effective: expected, permitted: expected });
  });

  it("withCapabilities sets exactly these, and filters inheritable", async () => {
    const spec = await gen(withAmbientCapabilities(["CAP_KILL", "CAP_CHOWN"]), withCapabilities(["CAP_KILL"]));
    expect(spec.process?.capabilities).toEqual({
      bounding: ["CAP_KILL"],
      effective: ["CAP_KILL"],
      permitted: ["CAP_KILL"],
      inheritable: ["CAP_KILL"],
      ambient: ["CAP_KILL", "CAP_CHOWN"],
    });
    const all = await gen(withAllKnownCapabilities);
    expect(all.process?.capabilities?.bounding).toEqual(KNOWN_CAPABILITIES);
    expect(thrownClass(() => withAddedCapabilities(["SYS_ADMIN"]))).toBe("InvalidArgument");
  });
});

describe("namespaces and cgroups", () => {
  it("host namespaces remove the container's own; joined ones replace by type", async () => {
    const spec = await gen(withHostNamespace("network"), withHostNamespace("ipc"), withLinuxNamespace({ type: "pid", path: "/proc/1/ns/pid" }), withLinuxNamespace({ type: "cgroup" }));
    expect(spec.linux?.namespaces).toEqual([{ type: "pid", path: "/proc/1/ns/pid" }, { type: "uts" }, { type: "mount" }, { type: "cgroup" }]);
  });

  it("a user namespace is added once, mappings accumulate", async () => {
    const m = { containerID: 0, hostID: 100000, size: 65536 };
    const spec = await gen(withUserNamespace([m], [m]), withUserNamespace([{ ...m, containerID: 65536, hostID: 200000, size: 1 }], []));
    expect(spec.linux?.namespaces?.filter((n) => n.type === "user")).toHaveLength(1);
    expect(spec.linux?.uidMappings).toHaveLength(2);
    expect(spec.linux?.gidMappings).toEqual([m]);
    expect(thrownClass(() => withUserNamespace([{ ...m, size: 0 }], []))).toBe("InvalidArgument");
  });

  it("cgroup paths", async () => {
    expect((await gen(withCgroup(""))).linux?.cgroupsPath).toBe("");
    expect((await gen(withCgroup("/x"), withNamespacedCgroup)).linux?.cgroupsPath).toBe("/ns/c1");
  });
});

describe("resources", () => {
  it("sets memory, cpu and pids limits", async () => {
    const spec = await gen(withMemoryLimit(256 << 20), withMemorySwap(-1), withCPUShares(512), withCPUs("0-1"), withCPUCFS(50_000, 100_000), withPidsLimit(100));
    expect(spec.linux?.resources).toEqual({
      devices: [{ allow: false, access: "rwm" }],
      memory: { limit: 256 << 20, swap: -1 },
      cpu: { shares: 512, cpus: "0-1", quota: 50_000, period: 100_000 },
      pids: { limit: 100 },
    });
  });

  it("rejects nonsense early, with InvalidArgument", () => {
    expect(thrownClass(() => withMemoryLimit(-5))).toBe("InvalidArgument");
    expect(thrownClass(() => withMemoryLimit(1.5))).toBe("InvalidArgument");
    expect(thrownClass(() => withCPUs("all"))).toBe("InvalidArgument");
    expect(thrownClass(() => withCPUCFS(-2, 100))).toBe("InvalidArgument");
  });

  it("device rules: the parent's, or one device of the host", async () => {
    expect((await gen(withParentCgroupDevices)).linux?.resources?.devices).toBeUndefined();
    const spec = await gen(withLinuxDevice("/dev/null", "rw"));
    expect(spec.linux?.devices).toEqual([{ path: "/dev/null", type: "c", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 }]);
    expect(spec.linux?.resources?.devices?.[1]).toEqual({ allow: true, type: "c", major: 1, minor: 3, access: "rw" });
    await expect(gen(withLinuxDevice("/etc/hostname"))).rejects.toThrow(/not a device/);
    expect(thrownClass(() => withLinuxDevice("/dev/null", "rwx"))).toBe("InvalidArgument");
  });

  it("splits device numbers as glibc does, and lists /dev like containerd", async () => {
    expect(splitDeviceNumber(0x0103n)).toEqual({ major: 1, minor: 3 });
    // A large minor: makedev(259, 0x12345) = ((0x12345 & 0xfff00) << 12) | (259 << 8) | 0x45
    expect(splitDeviceNumber((0x12300n << 12n) | (259n << 8n) | 0x45n)).toEqual({ major: 259, minor: 0x12345 });
    const devices = await devicesAt("/dev");
    expect(devices.some((d) => d.path === "/dev/null")).toBe(true);
    expect(devices.some((d) => d.path.startsWith("/dev/pts/") || d.path === "/dev/console")).toBe(false);
    const renamed = await devicesAt("/dev/null", "/dev/nothing");
    expect(renamed[0]?.path).toBe("/dev/nothing");
  });
});

describe("filesystem and identity", () => {
  it("mounts are appended, removed by destination; sysfs can be made writable", async () => {
    const spec = await gen(withMounts([{ destination: "/data", type: "bind", source: "/srv", options: ["rbind", "ro"] }]), withoutMounts("/run/", "/dev/mqueue"), withWritableSysfs);
    const destinations = spec.mounts?.map((m) => m.destination);
    expect(destinations).toEqual(["/proc", "/dev", "/dev/pts", "/dev/shm", "/sys", "/data"]);
    expect(spec.mounts?.find((m) => m.type === "sysfs")?.options).toEqual(["nosuid", "noexec", "nodev", "rw"]);
    expect(thrownClass(() => withMounts([{ destination: "relative" }]))).toBe("InvalidArgument");
  });

  it("sizes /dev/shm, and says so when there is none", async () => {
    const spec = await gen(withDevShmSize(131072));
    expect(spec.mounts?.find((m) => m.destination === "/dev/shm")?.options).toEqual(["nosuid", "noexec", "nodev", "mode=1777", "size=131072k"]);
    await expect(gen(withoutMounts("/dev/shm"), withDevShmSize(1))).rejects.toThrow(/no \/dev\/shm/);
  });

  it("hostname, domain name and annotations", async () => {
    const spec = await gen(withHostname("web-1.example"), withDomainname("example"), withAnnotations({ a: "1" }), withAnnotations({ b: "2", a: "3" }));
    expect(spec.hostname).toBe("web-1.example");
    expect(spec.domainname).toBe("example");
    expect(spec.annotations).toEqual({ a: "3", b: "2" });
    expect(thrownClass(() => withHostname(""))).toBe("InvalidArgument");
    expect(thrownClass(() => withHostname("a b"))).toBe("InvalidArgument");
    expect(thrownClass(() => withHostname("x".repeat(65)))).toBe("InvalidArgument");
  });
});
