// Debian's ctr 1.6 runs containers on berthd, once with Berth's own shim (io.containerd.berth.v2,
// one shim per namespace) and once with Debian's containerd-shim-runc-v2 (io.containerd.runc.v2)
// as the daemon's default runtime: an in-process daemon with the real plugins, the tiny fixture
// imported, and events watched through `ctr events`.
import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "@berth/daemon";
import {
  ctrIn,
  eventually,
  IMAGE,
  importTiny,
  mountsBelow,
  removeDir,
  removeNamespaceTraces,
  requireRoot,
  requireTool,
  settledLeftovers,
  startRuntimeDaemon,
  tempDir,
  tinyArchive,
  waitSubscribed,
  watchEvents,
} from "./harness.js";

/** ctr's table output as rows of cells, header dropped. */
const rows = (table: string) =>
  table
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.trim().split(/\s+/));

const statusOf = async (ctr: (...a: string[]) => Promise<string>, id: string) => rows(await ctr("tasks", "ls")).find((r) => r[0] === id)?.[2];

const RUNTIMES = ["io.containerd.berth.v2", "io.containerd.runc.v2"];

describe.each(RUNTIMES)("ctr run on berthd with %s as the default runtime", (runtime) => {
  let dir: string;
  let daemon: Daemon | undefined;
  let events: ReturnType<typeof watchEvents> | undefined;
  const ns = `berth-rt-${randomBytes(3).toString("hex")}`;
  let ctr: (...args: string[]) => Promise<string>;
  const used: string[] = [];
  const id = (name: string) => {
    used.push(name);
    return name;
  };
  const stateDir = () => join(dir, "state");

  beforeAll(async () => {
    requireRoot();
    for (const tool of ["ctr", "runc", "containerd-shim-runc-v2"]) await requireTool(tool);
    dir = await tempDir("berth-rt-");
    // ctr always names a runtime (its own default is io.containerd.runc.v2): every run below
    // names the one under test; the daemon's default is set to it too.
    daemon = await startRuntimeDaemon(dir, { default_runtime: runtime });
    ctr = ctrIn(daemon.address, ns);
    await importTiny(ctr, await tinyArchive(dir));
    events = watchEvents(daemon.address);
    await waitSubscribed(events, daemon.address, ns);
  }, 120_000);

  afterAll(async () => {
    events?.stop();
    if (daemon) {
      // Whatever a failed test left running: kill and delete its tasks, so no shim outlives the run.
      for (const row of rows(await ctr("tasks", "ls").catch(() => "header\n"))) {
        await ctr("tasks", "kill", "-s", "SIGKILL", row[0]!).catch(() => undefined);
        await ctr("tasks", "rm", "-f", row[0]!).catch(() => undefined);
      }
      await daemon.close();
    }
    await removeNamespaceTraces(ns);
    if (dir) await removeDir(dir);
  }, 60_000);

  it("ctr run --rm prints the container's output, with containerd's task events in order", async () => {
    const c = id("hello");
    expect(await ctr("run", "--runtime", runtime, "--rm", IMAGE, c, "echo", "hello")).toBe("hello\n");
    await events!.waitFor(new RegExp(`/tasks/delete \\{"container_id":"${c}"`));
    // ctr events prints: date time zone-offset zone namespace topic payload
    const topics = events!
      .lines()
      .split("\n")
      .filter((l) => l.includes(`"container_id":"${c}"`))
      .map((l) => l.split(" ")[5]);
    expect(topics).toEqual(["/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"]);
    expect(await settledLeftovers(ns, [c], stateDir())).toEqual([]);
  }, 60_000);

  it("ctr run exits with the container's exit status", async () => {
    const c = id("exit3");
    const err = (await ctr("run", "--runtime", runtime, "--rm", IMAGE, c, "sh", "-c", "exit 3").catch((e: unknown) => e)) as { exitCode?: number };
    expect(err.exitCode).toBe(3);
    await events!.waitFor(new RegExp(`/tasks/exit \\{"container_id":"${c}".*"exit_status":3`));
  }, 60_000);

  it("runs detached: tasks ls, exec, ps, pause, resume, metrics, kill, rm", async () => {
    const c = id("detached");
    await ctr("run", "--runtime", runtime, "-d", IMAGE, c, "sleep", "1000");
    const [row] = rows(await ctr("tasks", "ls")).filter((r) => r[0] === c);
    expect(row?.[2]).toBe("RUNNING");
    const pid = Number(row?.[1]);
    expect(pid).toBeGreaterThan(0);

    expect(await ctr("tasks", "exec", "--exec-id", "e1", c, "sh", "-c", "echo from-exec; id -u")).toBe("from-exec\n0\n");
    await events!.waitFor(new RegExp(`/tasks/exec-started \\{"container_id":"${c}","exec_id":"e1"`));

    const ps = rows(await ctr("tasks", "ps", c));
    expect(ps.map((r) => Number(r[0]))).toContain(pid);

    await ctr("tasks", "pause", c);
    expect(await statusOf(ctr, c)).toBe("PAUSED");
    await events!.waitFor(new RegExp(`/tasks/paused \\{"container_id":"${c}"`));
    await ctr("tasks", "resume", c);
    expect(await statusOf(ctr, c)).toBe("RUNNING");
    await events!.waitFor(new RegExp(`/tasks/resumed \\{"container_id":"${c}"`));

    const metrics = await ctr("tasks", "metrics", c);
    expect(metrics).toMatch(/memory\.usage_in_bytes\s+\d+/);
    expect(metrics).toMatch(/pids\.current\s+1/);

    // A running task cannot be deleted; the task stays.
    await expect(ctr("tasks", "rm", c)).rejects.toThrow(/must be stopped/);

    await ctr("tasks", "kill", "-s", "SIGKILL", c);
    await events!.waitFor(new RegExp(`/tasks/exit \\{"container_id":"${c}","id":"${c}".*"exit_status":137`));
    await eventually(async () => (await statusOf(ctr, c)) === "STOPPED", "the task to stop");
    await ctr("tasks", "rm", c);
    await events!.waitFor(new RegExp(`/tasks/delete \\{"container_id":"${c}"`));
    expect(await ctr("tasks", "ls")).not.toContain(c);
    await ctr("containers", "rm", c);
    expect(await settledLeftovers(ns, [c], stateDir())).toEqual([]);
  }, 60_000);

  it("a failed checkpoint names criu and leaves the task running, nothing half-written", async () => {
    const c = id("ckpt");
    await ctr("run", "--runtime", runtime, "-d", IMAGE, c, "sleep", "1000");
    const before = await ctr("content", "ls", "-q");
    const tmp = process.env["XDG_RUNTIME_DIR"] || "/tmp";
    const stray = async () => (await readdir(tmp)).filter((n) => n.startsWith("berth-checkpoint-"));
    const strayBefore = await stray();
    const err = await ctr("tasks", "checkpoint", c).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/criu/);
    expect(await statusOf(ctr, c)).toBe("RUNNING");
    expect(await ctr("content", "ls", "-q")).toBe(before);
    expect((await stray()).filter((n) => !strayBefore.includes(n))).toEqual([]);
    await ctr("tasks", "kill", "-s", "SIGKILL", c);
    await eventually(async () => (await statusOf(ctr, c)) === "STOPPED", "the task to stop");
    await ctr("tasks", "rm", c);
    await ctr("containers", "rm", c);
  }, 60_000);

  it("gives containerd's errors for a missing task and a second task", async () => {
    await expect(ctr("tasks", "kill", "nosuch")).rejects.toThrow(/not found/);
    const c = id("twice");
    await ctr("run", "--runtime", runtime, "-d", IMAGE, c, "sleep", "1000");
    await expect(ctr("tasks", "start", c)).rejects.toThrow(/already exists/);
    await ctr("tasks", "kill", "-s", "SIGKILL", c);
    await eventually(async () => (await statusOf(ctr, c)) === "STOPPED", "the task to stop");
    await ctr("tasks", "rm", c);
    await ctr("containers", "rm", c);
  }, 60_000);

  it("runs a shim named by absolute path; an unknown runtime fails naming its binary", async () => {
    const shim = await requireTool("containerd-shim-runc-v2");
    expect(await ctr("run", "--rm", "--runtime", shim, IMAGE, id("bypath"), "echo", "by-path")).toBe("by-path\n");
    const c = id("nosuchruntime");
    await expect(ctr("run", "--rm", "--runtime", "io.containerd.nosuch.v1", IMAGE, c, "true")).rejects.toThrow(/containerd-shim-nosuch-v1.*not found/);
    await ctr("containers", "rm", c).catch(() => undefined);
    expect(await settledLeftovers(ns, [c], stateDir())).toEqual([]);
  }, 60_000);

  it("tells introspection its default runtime", () => {
    const status = daemon!.plugins.statuses().find((s) => s.uri === "io.containerd.runtime.v2.task");
    expect(status?.state).toBe("ok");
    expect(status?.meta.exports).toEqual({ default_runtime: runtime });
  });

  it("10 concurrent run/kill/delete cycles leave no shim, mount, cgroup, FIFO or bundle behind", async () => {
    const ids = Array.from({ length: 10 }, (_, i) => id(`cycle${i}`));
    await Promise.all(
      ids.map(async (c) => {
        await ctr("run", "--runtime", runtime, "-d", IMAGE, c, "sleep", "1000");
        await ctr("tasks", "kill", "-s", "SIGKILL", c);
        await eventually(async () => (await statusOf(ctr, c)) === "STOPPED", `${c} to stop`);
        await ctr("tasks", "rm", c);
        await ctr("containers", "rm", c);
      }),
    );
    expect(rows(await ctr("tasks", "ls"))).toEqual([]);
    expect(await settledLeftovers(ns, ids, stateDir())).toEqual([]);
    expect(await mountsBelow(join(dir, "root"))).toEqual([]);
  }, 120_000);
});
