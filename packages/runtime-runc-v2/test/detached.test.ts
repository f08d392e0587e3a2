import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUNTIME, startContainerd, type PrivateContainerd } from "./helpers/containerd.js";
import { watchEvents, type EventWatch } from "./helpers/events.js";
import { alive, eventually } from "./helpers/tools.js";

let ctd: PrivateContainerd;
let events: EventWatch;

beforeAll(async () => {
  ctd = await startContainerd();
  events = await watchEvents(ctd.socket);
}, 60_000);

afterAll(async () => {
  events?.stop();
  await ctd?.destroy();
}, 60_000);

const runDetached = (id: string, args: string[], extra: string[] = []) =>
  ctd.ctr(["run", "-d", "--runtime", RUNTIME, ...extra, "tiny:latest", id, ...args]);

/** `ctr tasks ls` as id → [pid, status]. */
async function tasks(): Promise<Map<string, { pid: number; status: string }>> {
  const { stdout } = await ctd.ctr(["tasks", "ls"]);
  const out = new Map<string, { pid: number; status: string }>();
  for (const line of stdout.split("\n").slice(1)) {
    const [id, pid, status] = line.trim().split(/\s+/);
    if (id && pid && status) out.set(id, { pid: Number(pid), status });
  }
  return out;
}

const statusOf = async (id: string) => (await tasks()).get(id)?.status;

describe("a detached task", () => {
  it("runs, execs, lists its processes, pauses, resumes and reports metrics", async () => {
    await runDetached("d1", ["sleep", "1000"]);
    const task = (await tasks()).get("d1");
    expect(task?.status).toBe("RUNNING");
    expect(alive(task!.pid)).toBe(true);

    // exec: its output and exit status come back to ctr.
    const exec = await ctd.ctrStatus(["tasks", "exec", "--exec-id", "e1", "d1", "sh", "-c", "echo from-exec; exit 5"]);
    expect(exec).toMatchObject({ code: 5, stdout: "from-exec\n" });

    // ps: the init, and an exec'd process named by its exec id.
    const background = ctd.ctrStatus(["tasks", "exec", "--exec-id", "bg", "d1", "sleep", "1000"]);
    const ps = await eventually(async () => {
      const { stdout } = await ctd.ctr(["tasks", "ps", "d1"]);
      return stdout.includes("ExecID:bg") ? stdout : undefined;
    });
    expect(ps).toContain(String(task!.pid));
    await ctd.ctr(["tasks", "kill", "--exec-id", "bg", "-s", "SIGKILL", "d1"]);
    expect((await background).code).toBe(137);

    await ctd.ctr(["tasks", "pause", "d1"]);
    expect(await statusOf("d1")).toBe("PAUSED");
    // Nothing can be exec'd into a paused container.
    const refused = await ctd.ctrStatus(["tasks", "exec", "--exec-id", "e2", "d1", "true"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/paused/);
    await ctd.ctr(["tasks", "resume", "d1"]);
    expect(await statusOf("d1")).toBe("RUNNING");

    const { stdout: metrics } = await ctd.ctr(["tasks", "metrics", "d1"]);
    expect(metrics).toMatch(/memory\.usage_in_bytes\s+[1-9]\d*/);
    expect(metrics).toMatch(/cpuacct\.usage\s+[1-9]\d*/);
    expect(metrics).toMatch(/pids\.current\s+1\b/);

    // A running task cannot be deleted; killed, it exits 128 + SIGKILL.
    expect((await ctd.ctrStatus(["tasks", "delete", "d1"])).code).not.toBe(0);
    await ctd.ctr(["tasks", "kill", "-s", "SIGKILL", "d1"]);
    await eventually(async () => ((await statusOf("d1")) === "STOPPED" ? true : undefined));
    const deleted = await ctd.ctrStatus(["tasks", "delete", "d1"]);
    expect(deleted.stderr).toContain("exit code 137");
    expect((await tasks()).has("d1")).toBe(false);
    await ctd.ctr(["containers", "rm", "d1"]);

    await events.waitFor("/tasks/delete", "d1");
    const topics = events.topicsFor("d1").filter((t) => t.startsWith("/tasks/"));
    expect(topics).toEqual([
      "/tasks/create",
      "/tasks/start",
      "/tasks/exec-added",
      "/tasks/exec-started",
      "/tasks/exit",
      "/tasks/exec-added",
      "/tasks/exec-started",
      "/tasks/exit",
      "/tasks/paused",
      "/tasks/resumed",
      "/tasks/exit",
      "/tasks/delete",
    ]);
  });

  it("sends the exits of exec'd processes before the init's when the init dies", async () => {
    await runDetached("d2", ["sleep", "1000"]);
    const execs = ["x1", "x2"].map((id) => ctd.ctrStatus(["tasks", "exec", "--exec-id", id, "d2", "sleep", "1000"]));
    await eventually(async () => ((await ctd.ctr(["tasks", "ps", "d2"])).stdout.split("\n").filter((l) => /^\d+/.test(l)).length === 3 ? true : undefined));
    await ctd.ctr(["tasks", "kill", "-s", "SIGKILL", "d2"]);
    for (const exec of execs) expect((await exec).code).toBe(137);
    await ctd.ctr(["tasks", "delete", "d2"]);
    await ctd.ctr(["containers", "rm", "d2"]);
    await events.waitFor("/tasks/delete", "d2");
    const exits = events.events.filter((e) => e.topic === "/tasks/exit" && e.body.includes('"d2"'));
    expect(exits).toHaveLength(3);
    // The last exit is the init's: its id is the container's.
    expect(exits[2]!.body).toMatch(/"id":"d2"|"ID":"d2"/);
  });

  it("reports an OOM kill as /tasks/oom", async () => {
    // tail keeps the last line of /dev/zero — which never ends — in memory.
    const result = await ctd.ctrStatus(["run", "--rm", "--runtime", RUNTIME, "--memory-limit", String(16 * 1024 * 1024), "tiny:latest", "oom", "tail", "/dev/zero"]);
    expect(result.code).toBe(137);
    await events.waitFor("/tasks/oom", "oom");
  });
});
