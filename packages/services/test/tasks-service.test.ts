// The tasks service's translation between containerd.services.tasks.v1 and core's runtime, over
// the in-memory metadata and runtime. What runs real containers through it is tested in
// @berth/runtime-v2 (ctr run against berthd with Debian's runc shim).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { TimestampSchema, timestampDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { runcOptions, taskTypes, tasksApi } from "@berth/api";
import { failedPrecondition, internal, notFound, unavailable } from "@berth/core";
import { CHECKPOINT_CONFIG_MEDIA_TYPE, CHECKPOINT_MEDIA_TYPE, createTasksService } from "../src/index.js";
import { MemoryMetadata, callContext } from "./fakes.js";
import { errClass, handlers, msg } from "./helpers.js";
import { MemoryRuntime } from "./memory-runtime.js";

const ns = callContext({ namespace: "default" });
const spec = { typeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Spec", value: new TextEncoder().encode('{"ociVersion":"1.0.2"}') };
const containerOptions = { typeUrl: "containerd.runc.v1.Options", value: new Uint8Array([8, 1]) };
const io = { stdin: "/fifo/in", stdout: "/fifo/out", stderr: "/fifo/err", terminal: false };

async function setup() {
  const metadata = new MemoryMetadata();
  const runtime = new MemoryRuntime();
  const tasks = handlers(createTasksService(runtime, metadata), tasksApi.Tasks);
  for (const id of ["c1", "c2"]) {
    await metadata.containers.create(
      { namespace: "default" },
      { id, labels: {}, image: "img", runtime: { name: "io.containerd.runc.v2", options: containerOptions }, spec, snapshotter: "overlayfs", snapshotKey: id, extensions: {}, sandbox: "" },
    );
  }
  const createTask = (id: string, extra: Omit<MessageInitShape<typeof tasksApi.CreateTaskRequestSchema>, "$typeName"> = {}) =>
    tasks.create(
      msg(tasksApi.CreateTaskRequestSchema, {
        containerId: id,
        rootfs: [{ type: "overlay", source: "overlay", target: "", options: ["lowerdir=/l", "upperdir=/u", "workdir=/w"] }],
        ...io,
        ...extra,
      }),
      ns,
    );
  return { metadata, runtime, tasks, createTask };
}

describe("tasks service", () => {
  it("creates a task from the container record and the request: spec, runtime, options, rootfs, IO", async () => {
    const { runtime, createTask } = await setup();
    const taskOptions = { typeUrl: "containerd.runc.v1.Options", value: new Uint8Array([16, 1]) };
    const res = await createTask("c1", { options: taskOptions });
    expect(res).toMatchObject({ containerId: "c1", pid: 100 });
    expect(runtime.task("default", "c1").created).toEqual({
      spec,
      rootfs: [{ type: "overlay", source: "overlay", target: "", options: ["lowerdir=/l", "upperdir=/u", "workdir=/w"] }],
      io,
      checkpoint: "",
      runtime: "io.containerd.runc.v2",
      runtimeOptions: containerOptions,
      taskOptions,
      sandboxId: "",
    });
  });

  it("takes runtime_path over the container's runtime, and a criu_image_path as the checkpoint to restore", async () => {
    const { runtime, createTask } = await setup();
    const restore = create(runcOptions.OptionsSchema, { criuImagePath: "/checkpoints/c1" });
    await createTask("c1", { runtimePath: "/opt/shims/my-shim", options: { typeUrl: "containerd.runc.v1.Options", value: toBinary(runcOptions.OptionsSchema, restore) } });
    expect(runtime.task("default", "c1").created).toMatchObject({ runtime: "/opt/shims/my-shim", checkpoint: "/checkpoints/c1" });
  });

  it("refuses a second task, a container that does not exist, a call without a namespace", async () => {
    const { tasks, createTask } = await setup();
    await createTask("c1");
    expect(await errClass(createTask("c1"))).toBe("AlreadyExists");
    expect(await errClass(createTask("nope"))).toBe("NotFound");
    expect(await errClass(tasks.create(msg(tasksApi.CreateTaskRequestSchema, { containerId: "c1" }), callContext()))).toBe("FailedPrecondition");
  });

  it("restoring from a checkpoint descriptor in the content store is NotImplemented", async () => {
    const { createTask } = await setup();
    const checkpoint = { mediaType: CHECKPOINT_MEDIA_TYPE, digest: `sha256:${"a".repeat(64)}`, size: 1n, annotations: {} };
    expect(await errClass(createTask("c1", { checkpoint }))).toBe("NotImplemented");
  });

  it("starts, gets and lists processes with containerd's statuses", async () => {
    const { runtime, tasks, createTask } = await setup();
    await createTask("c1");
    await createTask("c2");
    expect((await tasks.start(msg(tasksApi.StartRequestSchema, { containerId: "c1" }), ns)).pid).toBe(100);
    const got = await tasks.get(msg(tasksApi.GetRequestSchema, { containerId: "c1" }), ns);
    expect(got.process).toMatchObject({ id: "c1", pid: 100, status: taskTypes.Status.RUNNING, stdin: "/fifo/in", stdout: "/fifo/out", stderr: "/fifo/err" });

    // A task gone meanwhile is left out; one whose runtime fails otherwise shows as UNKNOWN.
    runtime.task("default", "c2").stateError = internal("runc exploded");
    let list = await tasks.list(msg(tasksApi.ListTasksRequestSchema, {}), ns);
    expect(list.tasks?.map((t) => [t.id, t.status])).toEqual([
      ["c1", taskTypes.Status.RUNNING],
      ["c2", taskTypes.Status.UNKNOWN],
    ]);
    runtime.task("default", "c2").stateError = notFound("gone");
    list = await tasks.list(msg(tasksApi.ListTasksRequestSchema, {}), ns);
    expect(list.tasks?.map((t) => t.id)).toEqual(["c1"]);
    runtime.task("default", "c2").stateError = unavailable("shim not answering");
    list = await tasks.list(msg(tasksApi.ListTasksRequestSchema, {}), ns);
    expect(list.tasks?.map((t) => t.id)).toEqual(["c1"]);
    expect((await tasks.list(msg(tasksApi.ListTasksRequestSchema, {}), callContext({ namespace: "other" }))).tasks).toEqual([]);
  });

  it("routes kill, resize, closeIO, start and wait to the task or to one exec", async () => {
    const { runtime, tasks, createTask } = await setup();
    await createTask("c1");
    await tasks.exec(msg(tasksApi.ExecProcessRequestSchema, { containerId: "c1", execId: "e1", stdout: "/fifo/e1", spec: { typeUrl: "x.Process", value: new Uint8Array([1]) } }), ns);
    expect((await tasks.start(msg(tasksApi.StartRequestSchema, { containerId: "c1", execId: "e1" }), ns)).pid).toBe(1000);
    await tasks.kill(msg(tasksApi.KillRequestSchema, { containerId: "c1", signal: 9, all: true }), ns);
    await tasks.kill(msg(tasksApi.KillRequestSchema, { containerId: "c1", execId: "e1", signal: 15 }), ns);
    await tasks.resizePty(msg(tasksApi.ResizePtyRequestSchema, { containerId: "c1", execId: "e1", width: 80, height: 24 }), ns);
    await tasks.closeIO(msg(tasksApi.CloseIORequestSchema, { containerId: "c1", execId: "e1", stdin: true }), ns);
    await tasks.closeIO(msg(tasksApi.CloseIORequestSchema, { containerId: "c1", stdin: false }), ns);
    await tasks.pause(msg(tasksApi.PauseTaskRequestSchema, { containerId: "c1" }), ns);
    await tasks.resume(msg(tasksApi.ResumeTaskRequestSchema, { containerId: "c1" }), ns);
    await tasks.update(msg(tasksApi.UpdateTaskRequestSchema, { containerId: "c1", annotations: { a: "b" } }), ns);
    expect(runtime.calls.filter((c) => c.op !== "create").map((c) => [c.op, c.id, c.args])).toEqual([
      ["exec", "e1", { spec: { typeUrl: "x.Process", value: new Uint8Array([1]) }, io: { stdin: "", stdout: "/fifo/e1", stderr: "", terminal: false } }],
      ["start", "e1", undefined],
      ["kill", "c1", { signal: 9, all: true }],
      ["kill", "e1", { signal: 15, all: false }],
      ["resizePty", "e1", { width: 80, height: 24 }],
      ["closeIO", "e1", undefined],
      ["pause", "c1", undefined],
      ["resume", "c1", undefined],
      ["update", "c1", { resources: undefined, annotations: { a: "b" } }],
    ]);
    runtime.task("default", "c1").execs.get("e1")!.exit = { pid: 1000, status: 3, exitedAt: new Date("2024-01-02T03:04:05Z") };
    const waited = await tasks.wait(msg(tasksApi.WaitRequestSchema, { containerId: "c1", execId: "e1" }), ns);
    expect(waited.exitStatus).toBe(3);
    expect(timestampDate(create(TimestampSchema, waited.exitedAt)).toISOString()).toBe("2024-01-02T03:04:05.000Z");
    const deleted = await tasks.deleteProcess(msg(tasksApi.DeleteProcessRequestSchema, { containerId: "c1", execId: "e1" }), ns);
    expect(deleted).toMatchObject({ id: "e1", pid: 1000, exitStatus: 3 });
    expect(await errClass(tasks.kill(msg(tasksApi.KillRequestSchema, { containerId: "c1", execId: "e1", signal: 9 }), ns))).toBe("NotFound");
  });

  it("checks what containerd checks: an exec ID, a task to act on", async () => {
    const { tasks, createTask } = await setup();
    expect(await errClass(tasks.exec(msg(tasksApi.ExecProcessRequestSchema, { containerId: "c1", execId: "" }), ns))).toBe("InvalidArgument");
    expect(await errClass(tasks.kill(msg(tasksApi.KillRequestSchema, { containerId: "c1", signal: 9 }), ns))).toBe("NotFound");
    expect(await errClass(tasks.delete(msg(tasksApi.DeleteTaskRequestSchema, { containerId: "c1" }), ns))).toBe("NotFound");
    await createTask("c1");
    await tasks.start(msg(tasksApi.StartRequestSchema, { containerId: "c1" }), ns);
    expect(await errClass(tasks.delete(msg(tasksApi.DeleteTaskRequestSchema, { containerId: "c1" }), ns))).toBe("FailedPrecondition");
  });

  it("deletes a stopped task, answering with its exit", async () => {
    const { runtime, tasks, createTask } = await setup();
    await createTask("c1");
    runtime.task("default", "c1").exit = { pid: 100, status: 137, exitedAt: new Date("2024-01-02T03:04:05Z") };
    const res = await tasks.delete(msg(tasksApi.DeleteTaskRequestSchema, { containerId: "c1" }), ns);
    expect(res).toMatchObject({ pid: 100, exitStatus: 137 });
    expect(await errClass(tasks.get(msg(tasksApi.GetRequestSchema, { containerId: "c1" }), ns))).toBe("NotFound");
  });

  it("lists pids with their runtime info", async () => {
    const { tasks, createTask } = await setup();
    await createTask("c1");
    const { processes } = await tasks.listPids(msg(tasksApi.ListPidsRequestSchema, { containerId: "c1" }), ns);
    expect(processes?.map((p) => [p.pid, p.info?.typeUrl])).toEqual([
      [100, undefined],
      [77, "containerd.runc.v1.ProcessDetails"],
    ]);
  });

  it("collects metrics of the tasks the filters select, skipping tasks gone meanwhile", async () => {
    const { runtime, tasks, createTask } = await setup();
    await createTask("c1");
    await createTask("c2");
    const all = await tasks.metrics(msg(tasksApi.MetricsRequestSchema, {}), ns);
    expect(all.metrics?.map((m) => [m.id, m.data?.typeUrl])).toEqual([
      ["c1", "io.containerd.cgroups.v1.Metrics"],
      ["c2", "io.containerd.cgroups.v1.Metrics"],
    ]);
    const one = await tasks.metrics(msg(tasksApi.MetricsRequestSchema, { filters: ["id==c2"] }), ns);
    expect(one.metrics?.map((m) => m.id)).toEqual(["c2"]);
    runtime.task("default", "c2").statsValue = notFound("gone");
    expect((await tasks.metrics(msg(tasksApi.MetricsRequestSchema, {}), ns)).metrics?.map((m) => m.id)).toEqual(["c1"]);
    expect(await errClass(tasks.metrics(msg(tasksApi.MetricsRequestSchema, { filters: ["id=="] }), ns))).toBe("InvalidArgument");
  });

  it("stores a checkpoint in the content store (image tar + spec), removing its working directory", async () => {
    const { metadata, runtime, tasks, createTask } = await setup();
    await createTask("c1");
    const res = await tasks.checkpoint(msg(tasksApi.CheckpointTaskRequestSchema, { containerId: "c1" }), ns);
    expect(res.descriptors?.map((d) => d.mediaType)).toEqual([CHECKPOINT_MEDIA_TYPE, CHECKPOINT_CONFIG_MEDIA_TYPE]);
    const [image] = res.descriptors!;
    const tar = await readBlob(metadata, image!.digest!);
    expect(tar.length).toBe(Number(image!.size));
    expect(await listTar(tar)).toContain("./inventory.img");
    const call = runtime.calls.find((c) => c.op === "checkpoint")!;
    const workDir = (call.args as { path: string }).path;
    expect(workDir).toMatch(/berth-checkpoint-/);
    // Only this call's directory: other suites may checkpoint in the same temp dir meanwhile.
    expect(existsSync(workDir)).toBe(false);
  });

  it("leaves a checkpoint where the client asked for it, out of the content store", async () => {
    const { runtime, tasks, createTask } = await setup();
    await createTask("c1");
    const dir = await mkdtemp(join(tmpdir(), "berth-ckpt-client-"));
    try {
      const options = { typeUrl: "containerd.runc.v1.CheckpointOptions", value: toBinary(runcOptions.CheckpointOptionsSchema, create(runcOptions.CheckpointOptionsSchema, { imagePath: dir, exit: true })) };
      const res = await tasks.checkpoint(msg(tasksApi.CheckpointTaskRequestSchema, { containerId: "c1", options }), ns);
      expect(res.descriptors).toEqual([]);
      expect(await readdir(dir)).toEqual(["inventory.img"]);
      expect((runtime.calls.find((c) => c.op === "checkpoint")!.args as { options: unknown }).options).toEqual(options);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a failed checkpoint passes the runtime's error on and leaves nothing behind", async () => {
    const { metadata, runtime, tasks, createTask } = await setup();
    await createTask("c1");
    runtime.task("default", "c1").checkpointFiles = failedPrecondition("criu failed: type DUMP errno 0");
    const err = await tasks.checkpoint(msg(tasksApi.CheckpointTaskRequestSchema, { containerId: "c1" }), ns).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/criu failed/);
    const workDir = (runtime.calls.find((c) => c.op === "checkpoint")!.args as { path: string }).path;
    expect(existsSync(workDir)).toBe(false);
    const blobs = [];
    for await (const info of metadata.content.walk({ namespace: "default" }, [])) blobs.push(info);
    expect(blobs).toEqual([]);
  });
});

async function readBlob(metadata: MemoryMetadata, digest: string): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of metadata.content.read({ namespace: "default" }, digest)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function listTar(tar: Buffer): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), "berth-tar-"));
  try {
    await writeFile(join(dir, "t.tar"), tar);
    const { stdout } = await promisify(execFile)("tar", ["-tf", join(dir, "t.tar")]);
    return stdout.trim().split("\n");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
