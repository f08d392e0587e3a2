import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import { cgroupsV1Metrics, packAny, runcOptions, shimTaskApi, taskTypes, unpackAny } from "@berth/api";
import { isFailedPrecondition, isNotFound } from "@berth/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createShimHarness, type ShimHarness } from "./helpers/direct-shim.js";
import { alive, eventually, mountsUnder, run } from "./helpers/tools.js";

// The Task API as a daemon uses it, without containerd in between: what ctr cannot ask for.
let h: ShimHarness;

beforeAll(async () => {
  h = await createShimHarness();
}, 60_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

const bindRootfs = (image: string) => [{ type: "bind", source: image, target: "", options: ["rbind", "rw"] }];
const noIo = { stdin: "", stdout: "", stderr: "", terminal: false };

describe("Berth's shim through its Task API", () => {
  it("creates, reports state, deletes a task that never started (no exit event), and exits on Shutdown", async () => {
    const { bundle, image } = await h.bundle("c1", ["sleep", "1000"]);
    const { address, task } = await h.start("c1", bundle);
    const { pid } = await task.create({ id: "c1", bundle, rootfs: bindRootfs(image), ...noIo });
    expect(pid).toBeGreaterThan(0);
    expect(await mountsUnder(join(bundle, "rootfs"))).toHaveLength(1);
    const state = await task.state({ id: "c1" });
    expect(state).toMatchObject({ id: "c1", bundle, pid, status: taskTypes.Status.CREATED });
    const connected = await task.connect({ id: "c1" });
    expect(connected.taskPid).toBe(pid);
    expect(alive(connected.shimPid)).toBe(true);

    const deleted = await task.delete({ id: "c1" });
    expect(deleted.pid).toBe(pid);
    expect(await mountsUnder(join(bundle, "rootfs"))).toEqual([]);
    await expect(task.state({ id: "c1" })).rejects.toSatisfy(isNotFound);
    // runc killed the created init; no /tasks/exit for a task that never ran.
    await eventually(() => (alive(pid) ? undefined : true));
    expect(h.events.map((e) => e.topic)).toEqual(["/tasks/create", "/tasks/delete"]);

    await task.shutdown({ id: "c1" });
    await eventually(() => (alive(connected.shimPid) ? undefined : true));
    expect(existsSync(address.slice("unix://".length))).toBe(false);
  });

  it("runs the OCI runtime the options name (BinaryName), with the root they give", async () => {
    const wrapper = join(h.dir, "my-runc");
    const calls = join(h.dir, "my-runc.calls");
    const root = join(h.dir, "runc-root");
    h.runcRoots.push(join(root, h.namespace));
    await writeFile(wrapper, `#!/bin/sh\nfor a; do case "$a" in create|start|kill|delete|exec|ps) echo "$a" >> ${calls};; esac; done\nexec runc "$@"\n`);
    await chmod(wrapper, 0o755);
    const { bundle, image } = await h.bundle("c2", ["sleep", "1000"]);
    const { task } = await h.start("c2", bundle);
    const options = packAny(runcOptions.OptionsSchema, { binaryName: wrapper, root });
    await task.create({ id: "c2", bundle, rootfs: bindRootfs(image), ...noIo, options });
    await task.start({ id: "c2" });
    expect(existsSync(join(root, h.namespace, "c2"))).toBe(true);
    expect(await task.pids({ id: "c2" })).toMatchObject({ processes: [{ pid: expect.any(Number) }] });
    await task.kill({ id: "c2", signal: 9 });
    const waited = await task.wait({ id: "c2" });
    expect(waited.exitStatus).toBe(137);
    await task.delete({ id: "c2" });
    expect((await readFile(calls, "utf8")).split("\n").filter(Boolean)).toEqual(["create", "start", "ps", "kill", "delete"]);
    // The options are kept beside the bundle for `delete` after a crash.
    expect(JSON.parse(await readFile(join(bundle, "options.json"), "utf8"))).toEqual({ binary_name: wrapper, root });
    await task.shutdown({ id: "c2" });
  });

  it("tracks an exec'd process through created, running and stopped, with its exit and details", async () => {
    const { bundle, image } = await h.bundle("c3", ["sleep", "1000"]);
    const { task } = await h.start("c3", bundle);
    await task.create({ id: "c3", bundle, rootfs: bindRootfs(image), ...noIo });
    await task.start({ id: "c3" });
    const spec = { args: ["sh", "-c", "read x < /dev/null; sleep 1000"], cwd: "/", env: ["PATH=/bin"], user: { uid: 0, gid: 0 } };
    await task.exec({ id: "c3", execId: "e1", ...noIo, spec: { typeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Process", value: new TextEncoder().encode(JSON.stringify(spec)) } });
    await expect(task.exec({ id: "c3", execId: "e1", ...noIo, spec: { typeUrl: "x", value: new TextEncoder().encode("{}") } })).rejects.toThrow(/e1/);
    expect((await task.state({ id: "c3", execId: "e1" })).status).toBe(taskTypes.Status.CREATED);
    const { pid } = await task.start({ id: "c3", execId: "e1" });
    expect(await task.state({ id: "c3", execId: "e1" })).toMatchObject({ pid, status: taskTypes.Status.RUNNING, execId: "e1" });
    const { processes } = await task.pids({ id: "c3" });
    const info = processes.find((p) => p.pid === pid)?.info;
    expect(info?.typeUrl).toMatch(/containerd\.runc\.v1\.ProcessDetails$/);
    expect(fromBinary(runcOptions.ProcessDetailsSchema, info!.value).execId).toBe("e1");
    await expect(task.delete({ id: "c3", execId: "e1" })).rejects.toSatisfy(isFailedPrecondition);

    await task.kill({ id: "c3", execId: "e1", signal: 15 });
    expect((await task.wait({ id: "c3", execId: "e1" })).exitStatus).toBe(143);
    expect((await task.state({ id: "c3", execId: "e1" })).status).toBe(taskTypes.Status.STOPPED);
    await expect(task.kill({ id: "c3", execId: "e1", signal: 9 })).rejects.toSatisfy(isNotFound);
    await task.delete({ id: "c3", execId: "e1" });
    await expect(task.state({ id: "c3", execId: "e1" })).rejects.toSatisfy(isNotFound);

    const exits = h.payloads("/tasks/exit") as { containerId: string; id: string; exitStatus: number }[];
    expect(exits.filter((e) => e.containerId === "c3")).toEqual([expect.objectContaining({ id: "e1", exitStatus: 143 })]);
    await task.kill({ id: "c3", signal: 9, all: true });
    await task.wait({ id: "c3" });
    await task.delete({ id: "c3" });
    await task.shutdown({ id: "c3" });
  });

  it("applies Update's resources and reports cgroup metrics as containerd's Metrics type", async () => {
    const { bundle, image } = await h.bundle("c4", ["sleep", "1000"]);
    const { task } = await h.start("c4", bundle);
    await task.create({ id: "c4", bundle, rootfs: bindRootfs(image), ...noIo });
    await task.start({ id: "c4" });
    const limit = 48 * 1024 * 1024;
    await task.update({ id: "c4", resources: { typeUrl: "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources", value: new TextEncoder().encode(JSON.stringify({ memory: { limit } })) } });
    const cgroupLine = (await readFile(`/proc/${(await task.state({ id: "c4" })).pid}/cgroup`, "utf8")).split("\n").find((l) => /:memory:/.test(l))!;
    expect(Number(await readFile(join("/sys/fs/cgroup/memory", cgroupLine.split(":")[2]!, "memory.limit_in_bytes"), "utf8"))).toBe(limit);

    const { stats } = await task.stats({ id: "c4" });
    expect(stats?.typeUrl).toBe("io.containerd.cgroups.v1.Metrics");
    expect(unpackAny(cgroupsV1Metrics.MetricsSchema, stats!)?.memory?.usage?.limit).toBe(BigInt(limit));
    await task.kill({ id: "c4", signal: 9 });
    await task.wait({ id: "c4" });
    await task.delete({ id: "c4" });
    await task.shutdown({ id: "c4" });
  });

  it("start reuses the group's running shim and prints the same address", async () => {
    const annotations = { "io.containerd.berth.v2.group": "g1" };
    const first = await h.bundle("g1a", ["sleep", "1000"], annotations);
    const second = await h.bundle("g1b", ["sleep", "1000"], annotations);
    const a = await h.start("g1a", first.bundle);
    const b = await h.start("g1b", second.bundle);
    expect(b.address).toBe(a.address);
    expect(await readFile(join(second.bundle, "address"), "utf8")).toBe(a.address);
    await a.task.create({ id: "g1a", bundle: first.bundle, rootfs: bindRootfs(first.image), ...noIo });
    await b.task.create({ id: "g1b", bundle: second.bundle, rootfs: bindRootfs(second.image), ...noIo });
    const shimPid = (await a.task.connect({ id: "g1a" })).shimPid;
    expect((await b.task.connect({ id: "g1b" })).shimPid).toBe(shimPid);
    await a.task.delete({ id: "g1a" });
    await a.task.shutdown({ id: "g1a" });
    expect(alive(shimPid)).toBe(true); // g1b is still served
    await b.task.delete({ id: "g1b" });
    await b.task.shutdown({ id: "g1b" });
    await eventually(() => (alive(shimPid) ? undefined : true));
  });

  it("a group's shim that Shutdown left empty still takes a container whose start found its socket", async () => {
    const annotations = { "io.containerd.berth.v2.group": "g2" };
    const first = await h.bundle("g2a", ["sleep", "1000"], annotations);
    const a = await h.start("g2a", first.bundle);
    await a.task.create({ id: "g2a", bundle: first.bundle, rootfs: bindRootfs(first.image), ...noIo });
    const shimPid = (await a.task.connect({ id: "g2a" })).shimPid;
    // The race containerd can run into: a `start` for the group's next container reuses the
    // socket, and the last container's Shutdown reaches the shim before the next Create does.
    const second = await h.bundle("g2b", ["sleep", "1000"], annotations);
    const b = await h.start("g2b", second.bundle);
    expect(b.address).toBe(a.address);
    await a.task.delete({ id: "g2a" });
    await a.task.shutdown({ id: "g2a" });
    await b.task.create({ id: "g2b", bundle: second.bundle, rootfs: bindRootfs(second.image), ...noIo });
    expect((await b.task.connect({ id: "g2b" })).shimPid).toBe(shimPid);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // past the grace: the Create kept it
    expect(alive(shimPid)).toBe(true);
    await b.task.delete({ id: "g2b" });
    await b.task.shutdown({ id: "g2b" });
    await eventually(() => (alive(shimPid) ? undefined : true));
    expect(existsSync(a.address.slice("unix://".length))).toBe(false);
  });

  it("`delete` after the shim died force-deletes the container and answers a DeleteResponse", async () => {
    const { bundle, image } = await h.bundle("c5", ["sleep", "1000"]);
    const { task } = await h.start("c5", bundle);
    const { pid } = await task.create({ id: "c5", bundle, rootfs: bindRootfs(image), ...noIo });
    await task.start({ id: "c5" });
    const { shimPid } = await task.connect({ id: "c5" });
    process.kill(shimPid, "SIGKILL");
    await eventually(() => (alive(shimPid) ? undefined : true));
    expect(alive(pid)).toBe(true);

    const before = Date.now();
    const result = await h.shim(bundle, "c5", "delete", ["-bundle", bundle]);
    expect(result.code).toBe(0);
    const response = fromBinary(shimTaskApi.DeleteResponseSchema, result.stdout);
    expect(response.pid).toBe(pid);
    expect(response.exitStatus).toBe(137);
    expect(Number(response.exitedAt!.seconds) * 1000).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    await eventually(() => (alive(pid) ? undefined : true));
    expect(await mountsUnder(join(bundle, "rootfs"))).toEqual([]);
    await expect(run("runc", ["--root", `/run/containerd/runc/${h.namespace}`, "state", "c5"])).rejects.toThrow(/does not exist/);
  });

  it("restoring from a checkpoint that criu cannot use fails at start, naming the runtime's error", async () => {
    const { bundle, image } = await h.bundle("c6", ["sleep", "1000"]);
    const checkpoint = join(h.dir, "not-a-checkpoint");
    await mkdir(checkpoint);
    const { task } = await h.start("c6", bundle);
    await task.create({ id: "c6", bundle, rootfs: bindRootfs(image), ...noIo, checkpoint });
    await expect(task.start({ id: "c6" })).rejects.toThrow(/restore failed/);
    await task.delete({ id: "c6" });
    await task.shutdown({ id: "c6" });
  });

  it("start's stdin carries runtime options: ShimCgroup places the shim", async () => {
    const cgroup = `${h.namespace}-shim`;
    const dir = join("/sys/fs/cgroup/memory", cgroup);
    await mkdir(dir);
    try {
      const { bundle } = await h.bundle("c7", ["true"]);
      const any = packAny(runcOptions.OptionsSchema, { shimCgroup: `/${cgroup}` });
      const anyBytes = toBinary(AnySchema, create(AnySchema, { typeUrl: any.typeUrl, value: any.value }));
      const result = await h.shim(bundle, "c7", "start", [], anyBytes);
      expect(result.code).toBe(0);
      const procs = (await readFile(join(dir, "cgroup.procs"), "utf8")).split("\n").filter(Boolean).map(Number);
      expect(procs).toHaveLength(1);
      process.kill(procs[0]!, "SIGTERM");
      await eventually(() => (alive(procs[0]!) ? undefined : true));
    } finally {
      await eventually(async () => (await import("node:fs/promises").then((fs) => fs.rmdir(dir)).then(() => true, () => undefined)));
    }
  });
});
