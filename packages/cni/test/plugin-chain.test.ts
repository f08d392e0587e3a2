import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { classOf } from "@berth/core";
import { createCniNetworking, kubernetesPodArgs, type CniNetworkingOptions } from "../src/index.js";
import { readCalls, tempDir, writeConfig, writeRecordingPlugin } from "./helpers.js";

// These tests drive the runtime's side of the protocol with recording plugins (real executables
// that log what they receive); bridge.test.ts runs Debian's real plugins end to end.

async function rig(list: Record<string, unknown>, opts: Partial<CniNetworkingOptions> = {}) {
  const dir = await tempDir();
  const binDir = join(dir, "bin");
  const confDir = join(dir, "net.d");
  const cacheDir = join(dir, "cache");
  await writeConfig(confDir, "10-test.conflist", list);
  const options: CniNetworkingOptions = { confDir, binDirs: [join(dir, "empty-bin"), binDir], cacheDir, ...opts };
  return { dir, binDir, confDir, cacheDir, options, log: join(binDir, "calls.log"), cni: createCniNetworking(options) };
}

const chain = (cniVersion = "1.0.0", extra: Record<string, unknown> = {}) => ({
  cniVersion,
  name: "rec",
  ...extra,
  plugins: [
    { type: "rec-main", ipam: { subnet: "10.250.0.0/24" } },
    { type: "rec-ports", capabilities: { portMappings: true, bandwidth: true } },
    { type: "rec-tail" },
  ],
});

const pod = kubernetesPodArgs({ namespace: "default", name: "web", infraContainerId: "sb1", uid: "u-1" });
const ports = [{ hostPort: 8080, containerPort: 80, protocol: "tcp" as const }];

describe("plugin chains", () => {
  it("ADD runs the chain in order with the CNI environment, prevResult and declared capabilities only", async () => {
    const r = await rig(chain());
    for (const p of ["rec-main", "rec-ports", "rec-tail"]) await writeRecordingPlugin(r.binDir, p);

    const net = await r.cni.setup({
      containerId: "sb1",
      netnsPath: "/var/run/netns/cni-test",
      args: pod,
      capabilities: { portMappings: ports, dns: { servers: ["1.1.1.1"] } },
    });

    const calls = await readCalls(r.log);
    expect(calls.map((c) => `${c.command} ${c.plugin}`)).toEqual(["ADD rec-main", "ADD rec-ports", "ADD rec-tail"]);
    for (const c of calls) {
      expect(c).toMatchObject({ containerId: "sb1", netns: "/var/run/netns/cni-test", ifName: "eth0" });
      expect(c.args).toBe("IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=sb1;K8S_POD_UID=u-1");
      expect(c.path).toBe(r.options.binDirs.join(":"));
      expect(c.stdin).toMatchObject({ name: "rec", cniVersion: "1.0.0" });
    }
    const [main, portsCall, tail] = calls;
    expect(main?.stdin.prevResult).toBeUndefined();
    expect(main?.stdin.ipam).toEqual({ subnet: "10.250.0.0/24" });
    expect(main?.stdin.runtimeConfig).toBeUndefined();
    // Only the plugin that declared portMappings gets them; dns was declared by nobody.
    expect(portsCall?.stdin.runtimeConfig).toEqual({ portMappings: ports });
    expect(portsCall?.stdin.prevResult).toMatchObject({ ips: [{ address: "10.250.0.9/24" }] });
    expect(tail?.stdin.prevResult).toEqual(portsCall?.stdin.prevResult);

    expect(net.podIps).toEqual(["10.250.0.9"]);
    expect(net.interfaces.eth0).toEqual({ sandbox: "/netns", ips: [{ ip: "10.250.0.9", prefixLength: 24, gateway: "10.250.0.1" }] });
    expect(net.dns).toEqual([{ nameservers: ["10.250.0.53"] }]);
    expect(net.attachments).toHaveLength(1);

    // Cached in libcni's format and file name.
    const cached = JSON.parse(await readFile(join(r.cacheDir, "results", "rec-sb1-eth0"), "utf8"));
    expect(cached).toMatchObject({ kind: "cniCacheV1", containerId: "sb1", ifName: "eth0", networkName: "rec", netns: "/var/run/netns/cni-test" });
    expect(JSON.parse(Buffer.from(cached.config, "base64").toString()).name).toBe("rec");
    expect(cached.capabilityArgs).toEqual({ portMappings: ports, dns: { servers: ["1.1.1.1"] } });
    expect((await r.cni.cached("sb1"))?.podIps).toEqual(["10.250.0.9"]);
  });

  it("teardown after a restart runs DEL in reverse from the cache, with prevResult and the same args; then again is a no-op", async () => {
    const r = await rig(chain());
    for (const p of ["rec-main", "rec-ports", "rec-tail"]) await writeRecordingPlugin(r.binDir, p);
    await r.cni.setup({ containerId: "sb2", netnsPath: "/gone/netns", args: pod, capabilities: { portMappings: ports } });
    const added = await readCalls(r.log);

    // A new process, and the config is gone: the cache alone drives DEL.
    await rm(r.confDir, { recursive: true });
    const restarted = createCniNetworking(r.options);
    expect(await restarted.load()).toMatchObject({ ready: false, reason: "NoNetworkConfig" });
    await restarted.teardown({ containerId: "sb2" });

    const dels = (await readCalls(r.log)).slice(added.length);
    expect(dels.map((c) => `${c.command} ${c.plugin}`)).toEqual(["DEL rec-tail", "DEL rec-ports", "DEL rec-main"]);
    for (const c of dels) {
      // The recorded netns is not a pinned namespace any more, so plugins get none.
      expect(c).toMatchObject({ containerId: "sb2", netns: "", ifName: "eth0" });
      expect(c.args).toContain("K8S_POD_NAME=web");
      expect(c.stdin.prevResult).toMatchObject({ ips: [{ address: "10.250.0.9/24" }] });
    }
    expect(dels[1]?.stdin.runtimeConfig).toEqual({ portMappings: ports });
    expect(await readdir(join(r.cacheDir, "results"))).toEqual([]);
    expect(await restarted.cached("sb2")).toBeUndefined();

    await restarted.teardown({ containerId: "sb2" });
    expect(await readCalls(r.log)).toHaveLength(added.length + 3);
  });

  it("teardown with no cache entry still DELs today's networks, so a half-done setup releases what it took", async () => {
    const r = await rig(chain());
    for (const p of ["rec-main", "rec-ports", "rec-tail"]) await writeRecordingPlugin(r.binDir, p);
    await r.cni.load();
    await r.cni.teardown({ containerId: "never", args: pod });
    const calls = await readCalls(r.log);
    expect(calls.map((c) => `${c.command} ${c.plugin}`)).toEqual(["DEL rec-tail", "DEL rec-ports", "DEL rec-main"]);
    expect(calls.every((c) => c.stdin.prevResult === undefined)).toBe(true);
  });

  it("a spec 0.3.1 network gets no prevResult on DEL", async () => {
    const r = await rig(chain("0.3.1"));
    for (const p of ["rec-main", "rec-ports", "rec-tail"]) await writeRecordingPlugin(r.binDir, p);
    await r.cni.setup({ containerId: "old", netnsPath: "/x" });
    await r.cni.teardown({ containerId: "old" });
    const dels = (await readCalls(r.log)).filter((c) => c.command === "DEL");
    expect(dels).toHaveLength(3);
    expect(dels.every((c) => c.stdin.prevResult === undefined && c.stdin.cniVersion === "0.3.1")).toBe(true);
  });

  it("a plugin's CNI error names the plugin, keeps its class, and rolls back what was added", async () => {
    const r = await rig(chain());
    await writeRecordingPlugin(r.binDir, "rec-main");
    await writeRecordingPlugin(r.binDir, "rec-ports", { fail: { code: 11, msg: "iptables is locked", details: "try later" } });
    await writeRecordingPlugin(r.binDir, "rec-tail");

    const err = await r.cni.setup({ containerId: "sb3", netnsPath: "/x" }).catch((e: unknown) => e);
    expect(classOf(err)).toBe("Unavailable");
    expect((err as Error).message).toBe(
      'cni plugin "rec-ports" ADD (network "rec", interface eth0) failed (code 11): iptables is locked: try later',
    );
    const calls = await readCalls(r.log);
    expect(calls.map((c) => `${c.command} ${c.plugin}`)).toEqual([
      "ADD rec-main",
      "ADD rec-ports",
      "DEL rec-tail",
      "DEL rec-ports",
      "DEL rec-main",
    ]);
    expect(await r.cni.cached("sb3")).toBeUndefined();
  });

  it.each([
    [7, "InvalidArgument"],
    [3, "NotFound"],
    [1, "FailedPrecondition"],
    [999, "Unknown"],
  ])("CNI error code %i becomes %s", async (code, cls) => {
    const r = await rig({ cniVersion: "1.0.0", name: "one", plugins: [{ type: "rec-bad" }] });
    await writeRecordingPlugin(r.binDir, "rec-bad", { fail: { code, msg: "no" } });
    const err = await r.cni.setup({ containerId: "c", netnsPath: "/x" }).catch((e: unknown) => e);
    expect(classOf(err)).toBe(cls);
    expect((err as Error).message).toContain('cni plugin "rec-bad" ADD');
  });

  it("a plugin that vanished after load is NotFound, naming it and the bin dirs", async () => {
    const r = await rig({ cniVersion: "1.0.0", name: "one", plugins: [{ type: "rec-gone" }] });
    await writeRecordingPlugin(r.binDir, "rec-gone");
    expect((await r.cni.load()).ready).toBe(true);
    await rm(join(r.binDir, "rec-gone"));
    const err = await r.cni.setup({ containerId: "c", netnsPath: "/x" }).catch((e: unknown) => e);
    expect(classOf(err)).toBe("NotFound");
    expect((err as Error).message).toBe(`cni plugin "rec-gone" not found in ${r.options.binDirs.join(":")}`);
  });

  it("an aborted setup kills the plugin and is Canceled", async () => {
    const r = await rig({ cniVersion: "1.0.0", name: "slow", plugins: [{ type: "rec-hang" }] });
    const log = await writeRecordingPlugin(r.binDir, "rec-hang", { hang: true });
    const abort = new AbortController();
    const pending = r.cni.setup({ containerId: "c", netnsPath: "/x", signal: abort.signal }).catch((e: unknown) => e);
    // Abort once the plugin has started (it logs before hanging).
    while ((await readCalls(log)).length === 0) await new Promise((res) => setTimeout(res, 20));
    abort.abort();
    const err = await pending;
    expect(classOf(err)).toBe("Canceled");
    expect((err as Error).message).toContain('cni plugin "rec-hang" ADD');
    const [add, ...rest] = await readCalls(log);
    expect(() => process.kill(add?.pid ?? 0, 0)).toThrow(expect.objectContaining({ code: "ESRCH" }));
    // The half-done ADD was rolled back.
    expect(rest.map((c) => c.command)).toEqual(["DEL"]);
  });

  it("CHECK runs with the cached result, unless the network disables it", async () => {
    const r = await rig(chain());
    for (const p of ["rec-main", "rec-ports", "rec-tail"]) await writeRecordingPlugin(r.binDir, p);
    await r.cni.setup({ containerId: "sb4", netnsPath: "/x", capabilities: { portMappings: ports } });
    await r.cni.check({ containerId: "sb4", netnsPath: "/x" });
    const checks = (await readCalls(r.log)).filter((c) => c.command === "CHECK");
    expect(checks.map((c) => c.plugin)).toEqual(["rec-main", "rec-ports", "rec-tail"]);
    expect(checks.every((c) => (c.stdin.prevResult as { ips?: unknown[] } | undefined)?.ips?.length === 1)).toBe(true);
    expect(checks[1]?.stdin.runtimeConfig).toEqual({ portMappings: ports });

    const err = await r.cni.check({ containerId: "unknown", netnsPath: "/x" }).catch((e: unknown) => e);
    expect(classOf(err)).toBe("NotFound");

    await writeConfig(r.confDir, "10-test.conflist", chain("1.0.0", { disableCheck: true }));
    await r.cni.load();
    const before = (await readCalls(r.log)).length;
    await r.cni.check({ containerId: "sb4", netnsPath: "/x" });
    expect(await readCalls(r.log)).toHaveLength(before);
  });

  it("several networks get eth0, eth1…; the built-in loopback gets lo and goes first", async () => {
    const dir = await tempDir();
    const binDir = join(dir, "bin");
    const confDir = join(dir, "net.d");
    await writeConfig(confDir, "10-a.conflist", { cniVersion: "1.0.0", name: "a", plugins: [{ type: "rec-a" }] });
    await writeConfig(confDir, "20-b.conf", { cniVersion: "1.0.0", name: "b", type: "rec-b" });
    await writeRecordingPlugin(binDir, "rec-a", { address: "10.250.0.9/24" });
    await writeRecordingPlugin(binDir, "rec-b", { address: "10.251.0.7/24" });
    await writeRecordingPlugin(binDir, "loopback");
    const cni = createCniNetworking({ confDir, binDirs: [binDir], cacheDir: join(dir, "cache"), maxConfNum: 2, loopback: true });

    const net = await cni.setup({ containerId: "multi", netnsPath: "/x" });
    const calls = await readCalls(join(binDir, "calls.log"));
    expect(calls.map((c) => `${c.plugin} ${c.ifName}`)).toEqual(["loopback lo", "rec-a eth0", "rec-b eth1"]);
    expect(net.attachments.map((a) => `${a.network}:${a.ifName}`)).toEqual(["cni-loopback:lo", "a:eth0", "b:eth1"]);
    expect(await readdir(join(dir, "cache", "results"))).toHaveLength(3);

    await cni.teardown({ containerId: "multi" });
    const dels = (await readCalls(join(binDir, "calls.log"))).filter((c) => c.command === "DEL");
    expect(dels.map((c) => `${c.plugin} ${c.ifName}`)).toEqual(["rec-b eth1", "rec-a eth0", "loopback lo"]);
  });

  it("refuses ids and interface names that would not be a single path component", async () => {
    const r = await rig(chain());
    await expect(r.cni.setup({ containerId: "../escape", netnsPath: "/x" })).rejects.toMatchObject({ errClass: "InvalidArgument" });
    await expect(r.cni.setup({ containerId: "ok", netnsPath: "/x", ifName: "a/b" })).rejects.toMatchObject({ errClass: "InvalidArgument" });
    await expect(r.cni.teardown({ containerId: "" })).rejects.toMatchObject({ errClass: "InvalidArgument" });
  });
});
