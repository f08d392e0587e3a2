// Containers in pods against a real berthd: pods from the sandbox part, containers run by runc
// through Debian's shim, images from the CRI registry, logs read from disk, cgroup files read
// on the host, exec and attach through the streaming server with a WebSocket client.
import * as grpc from "@grpc/grpc-js";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { criApi } from "@berth/api";
import { createServiceClient } from "@berth/client";
import { classOf } from "@berth/core";
import { exec, freePort, requireTool, type CriRegistry } from "@berth/testing";
import { sandboxPrerequisites, startSandboxDaemon, type SandboxDaemon } from "./sandbox-daemon.js";
import { eventually, mountsMentioning, podConfig } from "./sandbox-helpers.js";
import { openWsSession } from "@berth/cri-streaming/testing";

const BUSYBOX = "registry.k8s.io/e2e-test-images/busybox:1.29-2";
const HTTPD = "registry.k8s.io/e2e-test-images/httpd:2.4.39-4";
const NGINX = "registry.k8s.io/e2e-test-images/nginx:1.14-2";

function httpGet(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, host, () => s.write("GET / HTTP/1.0\r\n\r\n"));
    let data = "";
    s.on("data", (d) => (data += d.toString("latin1")));
    s.on("end", () => resolve(data));
    s.on("error", reject);
  });
}

describe("CRI containers", () => {
  let registry: CriRegistry;
  let d: SandboxDaemon;
  let logDir: string;
  let n = 0;

  beforeAll(async () => {
    registry = await sandboxPrerequisites();
    await requireTool("socat", "socat"); // port forwarding runs socat in the pod's netns
    logDir = await mkdtemp(join(tmpdir(), "berth-cri-logs-"));
    d = await startSandboxDaemon(registry, { cri: { restrict_oom_score_adj: true, max_container_log_line_size: 64 } });
    const channel = new grpc.Client(`unix://${d.address}`, grpc.credentials.createInsecure());
    const images = createServiceClient(channel, criApi.ImageService, { timeoutMs: 120_000 });
    for (const image of [BUSYBOX, HTTPD, NGINX]) await images.pullImage({ image: { image } });
    channel.close();
  }, 240_000);

  afterAll(async () => {
    await d?.dispose();
    await registry?.stop();
    if (logDir) await rm(logDir, { recursive: true, force: true });
  }, 120_000);

  const runPod = async (overrides: Parameters<typeof podConfig>[0] = {}) => {
    const config = podConfig({ logDirectory: logDir, ...overrides });
    const { podSandboxId } = await d.runtime.runPodSandbox({ config });
    return { podSandboxId, config };
  };
  const containerConfig = (init: Omit<MessageInitShape<typeof criApi.ContainerConfigSchema>, "$typeName">) =>
    create(criApi.ContainerConfigSchema, { metadata: { name: `c${++n}`, attempt: 0 }, image: { image: BUSYBOX }, logPath: `c${n}.log`, ...init });
  const createAndStart = async (pod: { podSandboxId: string; config: criApi.PodSandboxConfig }, init: Parameters<typeof containerConfig>[0]) => {
    const config = containerConfig(init);
    const { containerId } = await d.runtime.createContainer({ podSandboxId: pod.podSandboxId, config, sandboxConfig: pod.config });
    await d.runtime.startContainer({ containerId });
    return { containerId, logPath: join(logDir, config.logPath) };
  };
  const status = async (id: string) => (await d.runtime.containerStatus({ containerId: id })).status!;
  const waitExited = (id: string) => eventually(`container ${id} exited`, async () => (await status(id)).state === criApi.ContainerState.CONTAINER_EXITED, 200);

  it("two containers share the pod's network: httpd serves, busybox fetches over localhost; logs in CRI format", async () => {
    const pod = await runPod();
    const web = await createAndStart(pod, { image: { image: HTTPD } });
    expect((await status(web.containerId)).state).toBe(criApi.ContainerState.CONTAINER_RUNNING);
    const fetcher = await createAndStart(pod, { command: ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://127.0.0.1:80/ && exit 0; sleep 0.5; done; exit 1"] });
    await waitExited(fetcher.containerId);
    const st = await status(fetcher.containerId);
    expect(st.exitCode).toBe(0);
    expect(st.reason).toBe("Completed");
    const log = await readFile(fetcher.logPath, "utf8");
    const lines = log.trimEnd().split("\n");
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (stdout|stderr) [PF] /);
    const list = await d.runtime.listContainers({ filter: { podSandboxId: pod.podSandboxId } });
    expect(list.containers.map((c) => c.id).sort()).toEqual([web.containerId, fetcher.containerId].sort());
    await d.runtime.stopPodSandbox({ podSandboxId: pod.podSandboxId });
    expect((await status(web.containerId)).state).toBe(criApi.ContainerState.CONTAINER_EXITED);
    await d.runtime.removePodSandbox({ podSandboxId: pod.podSandboxId });
    expect((await d.runtime.listContainers({ filter: { podSandboxId: pod.podSandboxId } })).containers).toEqual([]);
    expect(existsSync(`/sys/fs/cgroup/memory/k8s.io/${web.containerId}`)).toBe(false);
  }, 120_000);

  it("splits long lines into partial entries and keeps a last line without newline as partial", async () => {
    const pod = await runPod();
    const c = await createAndStart(pod, { command: ["sh", "-c", `printf '%0100d\\nshort\\nend' 0; echo oops >&2`] });
    await waitExited(c.containerId);
    const entries = (await readFile(c.logPath, "utf8")).trimEnd().split("\n").map((l) => l.split(" "));
    const out = entries.filter((e) => e[1] === "stdout").map((e) => [e[2], e.slice(3).join(" ")]);
    expect(out).toEqual([["P", "0".repeat(64)], ["F", "0".repeat(36)], ["F", "short"], ["P", "end"]]);
    expect(entries.filter((e) => e[1] === "stderr").map((e) => e.slice(2).join(" "))).toEqual(["F oops"]);
    await d.runtime.removePodSandbox({ podSandboxId: pod.podSandboxId }).catch(async () => {
      await d.runtime.stopPodSandbox({ podSandboxId: pod.podSandboxId });
      await d.runtime.removePodSandbox({ podSandboxId: pod.podSandboxId });
    });
  }, 120_000);

  it("ExecSync returns output and exit code, and fails with DeadlineExceeded past its timeout", async () => {
    const pod = await runPod();
    const c = await createAndStart(pod, { command: ["sleep", "1000"] });
    const r = await d.runtime.execSync({ containerId: c.containerId, cmd: ["sh", "-c", "echo out; echo err >&2; exit 3"], timeout: 10n });
    expect(Buffer.from(r.stdout).toString()).toBe("out\n");
    expect(Buffer.from(r.stderr).toString()).toBe("err\n");
    expect(r.exitCode).toBe(3);
    const err = await d.runtime.execSync({ containerId: c.containerId, cmd: ["sleep", "30"], timeout: 1n }).then(() => undefined, (e: unknown) => e);
    expect(classOf(err)).toBe("DeadlineExceeded");
    await d.runtime.stopPodSandbox({ podSandboxId: pod.podSandboxId });
    await d.runtime.removePodSandbox({ podSandboxId: pod.podSandboxId });
  }, 120_000);

  it("stops a container that ignores SIGTERM with SIGKILL after the timeout; stop is idempotent", async () => {
    const pod = await runPod();
    const c = await createAndStart(pod, { command: ["sh", "-c", "trap '' TERM; echo ready; while true; do sleep 0.1; done"] });
    // Stop only once the trap is set: a SIGTERM before it would end the shell with 143.
    await eventually("the trap is set", async () => (await readFile(c.logPath, "utf8").catch(() => "")).includes("ready"));
    await d.runtime.stopContainer({ containerId: c.containerId, timeout: 1n });
    const st = await status(c.containerId);
    expect(st.state).toBe(criApi.ContainerState.CONTAINER_EXITED);
    expect(st.exitCode).toBe(137);
    await d.runtime.stopContainer({ containerId: c.containerId, timeout: 1n });
    await d.runtime.removeContainer({ containerId: c.containerId });
    await d.runtime.removeContainer({ containerId: c.containerId });
    await d.runtime.stopPodSandbox({ podSandboxId: pod.podSandboxId });
    await d.runtime.removePodSandbox({ podSandboxId: pod.podSandboxId });
  }, 120_000);

  it("security context and resources reach the process and its cgroup; updates apply; stats are non-zero", async () => {
    const pod = await runPod();
    const c = await createAndStart(pod, {
      command: ["sleep", "1000"],
      linux: {
        securityContext: { runAsUser: { value: 1000n }, runAsGroup: { value: 3000n }, supplementalGroups: [4000n], readonlyRootfs: true, noNewPrivs: true, capabilities: { dropCapabilities: ["ALL"], addCapabilities: ["NET_RAW"] } },
        resources: { cpuShares: 512n, cpuQuota: 20000n, cpuPeriod: 100000n, memoryLimitInBytes: 64n * 1024n * 1024n },
      },
    });
    const run = async (cmd: string) => Buffer.from((await d.runtime.execSync({ containerId: c.containerId, cmd: ["sh", "-c", cmd], timeout: 10n })).stdout).toString();
    expect(await run("id")).toMatch(/uid=1000 gid=3000 groups=3000,4000/);
    expect(await run("grep NoNewPrivs /proc/self/status")).toMatch(/NoNewPrivs:\s+1/);
    expect(await run("touch /x 2>&1 || echo failed")).toMatch(/Read-only file system|failed/);
    expect(await run("grep CapBnd /proc/self/status")).toMatch(/CapBnd:\s+0000000000002000/);
    const cg = `/sys/fs/cgroup/memory/k8s.io/${c.containerId}/memory.limit_in_bytes`;
    expect((await readFile(cg, "utf8")).trim()).toBe(String(64 * 1024 * 1024));
    expect((await readFile(`/sys/fs/cgroup/cpu/k8s.io/${c.containerId}/cpu.shares`, "utf8")).trim()).toBe("512");
    await d.runtime.updateContainerResources({ containerId: c.containerId, linux: { memoryLimitInBytes: 128n * 1024n * 1024n, cpuShares: 256n } });
    expect((await readFile(cg, "utf8")).trim()).toBe(String(128 * 1024 * 1024));
    expect((await readFile(`/sys/fs/cgroup/cpu/k8s.io/${c.containerId}/cpu.shares`, "utf8")).trim()).toBe("256");
    await run("i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done");
    const { stats } = await d.runtime.containerStats({ containerId: c.containerId });
    expect(stats?.cpu?.usageCoreNanoSeconds?.value ?? 0n).toBeGreaterThan(0n);
    expect(stats?.memory?.workingSetBytes?.value ?? 0n).toBeGreaterThan(0n);
    expect((await d.runtime.listContainerStats({})).stats.some((s) => s.attributes?.id === c.containerId)).toBe(true);
    await d.runtime.stopPodSandbox({ podSandboxId: pod.podSandboxId });
    await d.runtime.removePodSandbox({ podSandboxId: pod.podSandboxId });
  }, 120_000);

  it("ALL capabilities are the daemon's own; a host-to-container mount sees host mounts made later", async () => {
    const pod = await runPod({ linux: { securityContext: { privileged: true } } });
    const src = await mkdtemp(join(tmpdir(), "berth-cri-prop-"));
    await exec("mount", ["--bind", src, src]);
    await exec("mount", ["--make-shared", src]);
    try {
      const c = await createAndStart(pod, {
        command: ["sleep", "1000"],
        mounts: [{ containerPath: "/prop", hostPath: src, propagation: criApi.MountPropagation.PROPAGATION_HOST_TO_CONTAINER }],
        linux: { securityContext: { capabilities: { addCapabilities: ["ALL"] } } },
      });
      const run = async (cmd: string) => Buffer.from((await d.runtime.execSync({ containerId: c.containerId, cmd: ["sh", "-c", cmd], timeout: 10n })).stdout).toString();
      const own = /CapBnd:\s+(\S+)/.exec(await readFile("/proc/self/status", "utf8"))![1];
      expect(await run("grep CapBnd /proc/self/status")).toContain(own);
      await mkdir(join(src, "sub"));
      await exec("mount", ["-t", "tmpfs", "tmpfs", join(src, "sub")]);
      await writeFile(join(src, "sub", "seen"), "from the host");
      expect(await run("cat /prop/sub/seen")).toBe("from the host");
      await d.runtime.stopPodSandbox({ podSandboxId: pod.podSandboxId });
      await d.runtime.removePodSandbox({ podSandboxId: pod.podSandboxId });
    } finally {
      await exec("umount", ["-R", src]).catch(() => undefined);
      await rm(src, { recursive: true, force: true });
    }
  }, 120_000);

  it("streams container events; exec and attach work through the streaming server", async () => {
    const abort = new AbortController();
    const seen: number[] = [];
    const following = (async () => {
      try {
        for await (const e of d.runtime.getContainerEvents({}, { signal: abort.signal })) seen.push(e.containerEventType);
      } catch {
        // cancelled
      }
    })();
    const pod = await runPod();
    const c = await createAndStart(pod, { command: ["sh", "-c", "while read line; do echo got:$line; done"], stdin: true, stdinOnce: false });
    const { url } = await d.runtime.exec({ containerId: c.containerId, cmd: ["sh", "-c", "echo from-exec; echo e >&2; exit 2"], stdout: true, stderr: true });
    const ex = await openWsSession(url);
    await ex.closed;
    expect(ex.channels.get(1)?.toString()).toBe("from-exec\n");
    expect(ex.channels.get(2)?.toString()).toBe("e\n");
    expect(ex.channels.get(3)?.toString()).toMatch(/exit code 2|"code":2|ExitCode/);
    const attach = await d.runtime.attach({ containerId: c.containerId, stdin: true, stdout: true });
    const at = await openWsSession(attach.url);
    at.send(0, "hello\n");
    await eventually("attach echo", async () => (at.channels.get(1)?.toString() ?? "").includes("got:hello"), 100);
    at.close();
    await d.runtime.stopPodSandbox({ podSandboxId: pod.podSandboxId });
    await d.runtime.removePodSandbox({ podSandboxId: pod.podSandboxId });
    await eventually("deleted event", async () => seen.includes(3));
    abort.abort();
    await following;
    expect(seen.slice(0, 2)).toEqual([0, 1]);
    expect(seen).toContain(2);
  }, 120_000);

  it("maps a host port to nginx in the pod and forwards a port through the streaming server (WebSocket)", async () => {
    const hostPort = await freePort();
    const pod = await runPod({ portMappings: [{ protocol: criApi.Protocol.TCP, containerPort: 80, hostPort, hostIp: "" }] });
    const web = await createAndStart(pod, { image: { image: NGINX } });
    let body = "";
    await eventually("nginx answers through the host port", async () => {
      body = await httpGet("127.0.0.1", hostPort).catch(() => "");
      return body.includes("200 OK");
    }, 100);
    const { url } = await d.runtime.portForward({ podSandboxId: pod.podSandboxId, port: [80] });
    const pf = await openWsSession(url, "v4.channel.k8s.io", "?port=80");
    // Port-forward channels: 0 data, 1 errors; each starts with the port (2 bytes, little endian).
    pf.send(0, "GET / HTTP/1.0\r\n\r\n");
    await eventually("answer through port-forward", async () => (pf.channels.get(0)?.toString("latin1") ?? "").includes("200 OK"), 100).catch((e: unknown) => {
      throw new Error(`${String(e)}: ${JSON.stringify([...pf.channels].map(([k, v]) => [k, v.toString("latin1")]))}`);
    });
    pf.close();
    await d.runtime.stopPodSandbox({ podSandboxId: pod.podSandboxId });
    await d.runtime.removePodSandbox({ podSandboxId: pod.podSandboxId });
    expect(await mountsMentioning(web.containerId)).toEqual([]);
  }, 120_000);

  it("recovers containers after a daemon restart: running ones keep logging, exits while away are recorded", async () => {
    const pod = await runPod();
    const long = await createAndStart(pod, { command: ["sh", "-c", "echo before; read x; echo after; sleep 1000"], stdin: true });
    const short = await createAndStart(pod, { command: ["sh", "-c", "sleep 3; exit 7"] });
    await eventually("first line logged", async () => (await readFile(long.logPath, "utf8").catch(() => "")).includes("before"));
    await d.restart();
    await waitExited(short.containerId);
    expect((await status(short.containerId)).exitCode).toBe(7);
    expect((await status(long.containerId)).state).toBe(criApi.ContainerState.CONTAINER_RUNNING);
    const attach = await d.runtime.attach({ containerId: long.containerId, stdin: true, stdout: true });
    const at = await openWsSession(attach.url);
    at.send(0, "go\n");
    await eventually("log after restart", async () => (await readFile(long.logPath, "utf8")).includes("after"));
    at.close();
    await d.runtime.stopPodSandbox({ podSandboxId: pod.podSandboxId });
    await d.runtime.removePodSandbox({ podSandboxId: pod.podSandboxId });
    const left = await exec("ctr", ["-a", d.address, "-n", "k8s.io", "containers", "ls", "-q"]).then((r) => r.stdout.trim().split("\n").filter(Boolean));
    expect(left.filter((id) => [pod.podSandboxId, long.containerId, short.containerId].includes(id))).toEqual([]);
  }, 180_000);
});
