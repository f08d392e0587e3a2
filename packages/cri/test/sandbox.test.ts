// Pod sandboxes against a real berthd: pause containers run by runc through Debian's shim,
// network namespaces and CNI (bridge, host-local, portmap, loopback from /usr/lib/cni), the
// pause image from the CRI registry. Needs root and the tools sandboxPrerequisites() names.
import { existsSync } from "node:fs";
import { readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { criApi } from "@berth/api";
import { classOf } from "@berth/core";
import { exec, freePort, type CriRegistry } from "@berth/testing";
import { sandboxPrerequisites, startSandboxDaemon, type SandboxDaemon } from "./sandbox-daemon.js";
import { entries, eventually, fetchTcp, fileOrEmpty, listenInNetns, mountsMentioning, ping, podConfig, sameNetns } from "./sandbox-helpers.js";

const { NODE } = criApi.NamespaceMode;

describe("CRI pod sandboxes", () => {
  let registry: CriRegistry;
  let d: SandboxDaemon;

  beforeAll(async () => {
    registry = await sandboxPrerequisites();
    d = await startSandboxDaemon(registry, {
      cri: {
        containerd: {
          runtimes: {
            runc: { runtime_type: "io.containerd.runc.v2" },
            // A handler whose shim does not exist: the task cannot be created, so the pod must roll back.
            broken: { runtime_type: "io.containerd.nonexistent.v1" },
          },
        },
      },
    });
  }, 180_000);

  afterAll(async () => {
    await d?.dispose();
    await registry?.stop();
  }, 120_000);

  const status = async (id: string, verbose = false) => d.runtime.podSandboxStatus({ podSandboxId: id, verbose });
  const leases = () => entries(join(d.cni.ipamDataDir, d.cni.bridge)).then((names) => names.filter((n) => /^\d+\.\d+\.\d+\.\d+$/.test(n)));

  it("runs a pod: CNI IP that answers ping, hostname, resolv.conf, hosts, /dev/shm, oom_score_adj, records", async () => {
    const cgroupParent = `/berth-test-${process.pid}`;
    const config = podConfig({
      dnsConfig: { servers: ["10.0.0.10"], searches: ["svc.cluster.local"], options: ["ndots:5"] },
      linux: {
        cgroupParent,
        sysctls: { "net.ipv4.ip_local_port_range": "33000 34000" },
        securityContext: { seccomp: { profileType: criApi.SecurityProfile_ProfileType.RuntimeDefault } },
      },
    });
    const { podSandboxId: id } = await d.runtime.runPodSandbox({ config });
    const s = (await status(id, true)).status!;
    expect(s).toMatchObject({ id, state: criApi.PodSandboxState.SANDBOX_READY, labels: config.labels, annotations: config.annotations, metadata: config.metadata });
    const prefix = d.cni.subnet.replace(/0\/24$/, "");
    expect(s.network?.ip.startsWith(prefix)).toBe(true);
    await ping(s.network!.ip);
    expect(await leases()).toContain(s.network!.ip);

    const info = JSON.parse((await status(id, true)).info["info"]!) as { pid: number; netnsPath: string; rootDir: string };
    const pid = info.pid;
    expect(pid).toBeGreaterThan(0);
    expect(info.netnsPath).toMatch(/^\/var\/run\/netns\/cni-/);
    expect(await sameNetns(pid, "self")).toBe(false);
    expect((await exec("nsenter", ["-t", String(pid), "-u", "hostname"])).stdout.trim()).toBe(config.hostname);
    expect(await fileOrEmpty(`/proc/${pid}/root/etc/resolv.conf`)).toBe("search svc.cluster.local\nnameserver 10.0.0.10\noptions ndots:5\n");
    expect(await fileOrEmpty(join(info.rootDir, "hosts"))).toBe(await fileOrEmpty("/etc/hosts"));
    expect(await fileOrEmpty(join(info.rootDir, "hostname"))).toBe(`${config.hostname}\n`);
    const shm = (await fileOrEmpty(`/proc/${pid}/mountinfo`)).split("\n").find((l) => l.split(" ")[4] === "/dev/shm");
    expect(shm).toMatch(/ - tmpfs shm /);
    expect((await exec("nsenter", ["-t", String(pid), "-n", "cat", "/proc/sys/net/ipv4/ip_local_port_range"])).stdout).toBe("33000\t34000\n");
    const procStatus = await fileOrEmpty(`/proc/${pid}/status`);
    expect(procStatus).toMatch(/^Seccomp:\s+2$/m);
    // The pause image's own user (65535:65535) when the pod names none.
    expect(procStatus).toMatch(/^Uid:\s+65535\s/m);
    expect(existsSync(`/sys/fs/cgroup/memory${cgroupParent}/${id}`)).toBe(true);
    const ownOom = Number((await fileOrEmpty("/proc/self/oom_score_adj")).trim());
    expect(Number((await fileOrEmpty(`/proc/${pid}/oom_score_adj`)).trim())).toBe(Math.max(-998, ownOom));

    const record = JSON.parse(await d.ctr("containers", "info", id)) as { Labels: Record<string, string>; Spec: { annotations: Record<string, string> } };
    expect(record.Labels).toMatchObject({ "io.cri-containerd.kind": "sandbox", app: "sandbox-test" });
    expect(record.Spec.annotations).toMatchObject({ "io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.sandbox-id": id, "io.kubernetes.cri.sandbox-name": config.metadata!.name });

    const stats = (await d.runtime.podSandboxStats({ podSandboxId: id })).stats!;
    expect(stats.attributes?.id).toBe(id);
    expect(stats.linux?.cpu?.usageCoreNanoSeconds?.value).toBeGreaterThan(0n);
    expect(stats.linux?.memory?.workingSetBytes).toBeDefined();
    expect(stats.linux?.network?.defaultInterface?.name).toBe("eth0");
    expect((await d.runtime.listPodSandboxStats({ filter: { id, labelSelector: {} } })).stats.map((x) => x.attributes?.id)).toEqual([id]);

    // Stop: the IP lease and the netns go; the pod stays, NOTREADY; a second stop is fine.
    await d.runtime.stopPodSandbox({ podSandboxId: id });
    expect((await status(id)).status?.state).toBe(criApi.PodSandboxState.SANDBOX_NOTREADY);
    expect(await leases()).not.toContain(s.network!.ip);
    expect(existsSync(info.netnsPath)).toBe(false);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    await d.runtime.stopPodSandbox({ podSandboxId: id });

    // Remove: nothing of the pod is left.
    await d.runtime.removePodSandbox({ podSandboxId: id });
    expect(classOf(await status(id).catch((e: unknown) => e))).toBe("NotFound");
    expect(await d.ctr("containers", "ls", "-q")).not.toContain(id);
    expect(await d.ctr("snapshots", "ls")).not.toContain(id);
    expect(await mountsMentioning(id)).toEqual([]);
    expect(existsSync(info.rootDir)).toBe(false);
    expect(existsSync(`/sys/fs/cgroup/memory${cgroupParent}/${id}`)).toBe(false);
    await d.runtime.removePodSandbox({ podSandboxId: id });
    // The parent is the kubelet's to manage (containerd leaves it too); the test removes its own.
    for (const controller of await entries("/sys/fs/cgroup")) await rmdir(`/sys/fs/cgroup/${controller}${cgroupParent}`).catch(() => undefined);
    // The name is free again.
    const again = await d.runtime.runPodSandbox({ config });
    await d.runtime.removePodSandbox({ podSandboxId: again.podSandboxId });
  }, 180_000);

  it("a host-network pod shares the host's network and has no IP", async () => {
    const config = podConfig({ linux: { securityContext: { namespaceOptions: { network: NODE, pid: NODE, ipc: NODE }, runAsUser: { value: 1234n } } } });
    const { podSandboxId: id } = await d.runtime.runPodSandbox({ config });
    const res = await status(id, true);
    expect(res.status?.network?.ip).toBe("");
    expect(res.status?.linux?.namespaces?.options).toMatchObject({ network: NODE, pid: NODE, ipc: NODE });
    const pid = (JSON.parse(res.info["info"]!) as { pid: number }).pid;
    expect(await sameNetns(pid, "self")).toBe(true);
    expect(await fileOrEmpty(`/proc/${pid}/status`)).toMatch(/^Uid:\s+1234\s/m);
    // Host IPC: no pod /dev/shm of its own.
    expect(await mountsMentioning(id)).not.toContainEqual(expect.stringContaining("/shm "));
    await d.runtime.removePodSandbox({ podSandboxId: id });
    expect(await d.ctr("containers", "ls", "-q")).not.toContain(id);
  }, 120_000);

  it("maps a host port to a listener in the pod's netns", async () => {
    const hostPort = await freePort();
    const config = podConfig({ portMappings: [{ protocol: criApi.Protocol.TCP, containerPort: 8080, hostPort, hostIp: "" }] });
    const { podSandboxId: id } = await d.runtime.runPodSandbox({ config });
    const info = JSON.parse((await status(id, true)).info["info"]!) as { netnsPath: string };
    const listener = listenInNetns(info.netnsPath, 8080);
    try {
      await listener.ready;
      expect(await fetchTcp("127.0.0.1", hostPort)).toBe("hello from the pod\n");
      expect(await fetchTcp(d.cni.gateway, hostPort)).toBe("hello from the pod\n");
    } finally {
      listener.proc.kill();
    }
    await d.runtime.removePodSandbox({ podSandboxId: id });
    expect((await exec("iptables", ["-t", "nat", "-S"])).stdout).not.toContain(id.slice(0, 12));
  }, 120_000);

  it("lists pods by ID prefix, state and labels", async () => {
    const a = (await d.runtime.runPodSandbox({ config: podConfig({ labels: { group: "x" } }) })).podSandboxId;
    const b = (await d.runtime.runPodSandbox({ config: podConfig({ labels: { group: "y" } }) })).podSandboxId;
    await d.runtime.stopPodSandbox({ podSandboxId: b });
    const list = async (filter: Partial<criApi.PodSandboxFilter>) =>
      (await d.runtime.listPodSandbox({ filter: { id: "", labelSelector: {}, ...filter } })).items.map((p) => p.id).sort();
    expect(await list({})).toEqual([a, b].sort());
    expect(await list({ id: a.slice(0, 10) })).toEqual([a]);
    expect(await list({ labelSelector: { group: "y" } })).toEqual([b]);
    expect(await list({ state: { state: criApi.PodSandboxState.SANDBOX_READY } as criApi.PodSandboxStateValue })).toEqual([a]);
    expect(await list({ state: { state: criApi.PodSandboxState.SANDBOX_NOTREADY } as criApi.PodSandboxStateValue })).toEqual([b]);
    // A short ID works for the pod RPCs too.
    expect((await status(a.slice(0, 12))).status?.id).toBe(a);
    for (const id of [a, b]) await d.runtime.removePodSandbox({ podSandboxId: id });
  }, 120_000);

  it("marks a pod NOTREADY when its pause process dies", async () => {
    const { podSandboxId: id } = await d.runtime.runPodSandbox({ config: podConfig() });
    const pid = (JSON.parse((await status(id, true)).info["info"]!) as { pid: number }).pid;
    process.kill(pid, "SIGKILL");
    await eventually("the pod turns NOTREADY", async () => (await status(id)).status?.state === criApi.PodSandboxState.SANDBOX_NOTREADY);
    await d.runtime.removePodSandbox({ podSandboxId: id });
  }, 120_000);

  it("rolls back a pod whose task cannot start, and one whose CNI config is broken", async () => {
    const netnsBefore = await entries("/var/run/netns");
    const containersBefore = await d.ctr("containers", "ls", "-q");
    const config = podConfig();
    const err = await d.runtime.runPodSandbox({ config, runtimeHandler: "broken" }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeDefined();
    expect(await leases()).toEqual([]);
    expect(await entries("/var/run/netns")).toEqual(netnsBefore);
    expect(await d.ctr("containers", "ls", "-q")).toBe(containersBefore);
    expect((await d.runtime.listPodSandbox({})).items).toEqual([]);
    expect(await mountsMentioning(join(d.dir, "root", "io.containerd.grpc.v1.cri"))).toEqual([]);

    const good = await readFile(d.cni.conflist, "utf8");
    await writeFile(d.cni.conflist, good.replace('"type": "portmap"', '"type": "no-such-plugin"'));
    try {
      const cniErr = await d.runtime.runPodSandbox({ config }).then(() => undefined, (e: unknown) => e);
      expect(String(cniErr)).toMatch(/no-such-plugin|not ready|not initialized/);
      expect(await leases()).toEqual([]);
      expect(await entries("/var/run/netns")).toEqual(netnsBefore);
    } finally {
      await writeFile(d.cni.conflist, good);
    }
    // The name was released both times.
    const { podSandboxId } = await d.runtime.runPodSandbox({ config });
    await d.runtime.removePodSandbox({ podSandboxId });
  }, 120_000);

  it("recovers pods after a daemon restart: status, IP, stop and remove still work", async () => {
    const ready = (await d.runtime.runPodSandbox({ config: podConfig() })).podSandboxId;
    const stopped = (await d.runtime.runPodSandbox({ config: podConfig() })).podSandboxId;
    await d.runtime.stopPodSandbox({ podSandboxId: stopped });
    const before = (await status(ready, true));
    const ip = before.status!.network!.ip;

    await d.restart();

    const after = await status(ready, true);
    expect(after.status).toMatchObject({ id: ready, state: criApi.PodSandboxState.SANDBOX_READY, network: { ip } });
    expect(JSON.parse(after.info["info"]!)).toMatchObject({ pid: (JSON.parse(before.info["info"]!) as { pid: number }).pid });
    expect((await status(stopped)).status?.state).toBe(criApi.PodSandboxState.SANDBOX_NOTREADY);
    await ping(ip);

    await d.runtime.stopPodSandbox({ podSandboxId: ready });
    expect(await leases()).not.toContain(ip);
    for (const id of [ready, stopped]) await d.runtime.removePodSandbox({ podSandboxId: id });
    expect((await d.runtime.listPodSandbox({})).items).toEqual([]);
    expect(await d.ctr("containers", "ls", "-q")).toBe("");
  }, 180_000);
});
