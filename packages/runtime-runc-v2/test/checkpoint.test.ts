import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUNTIME, startContainerd, type PrivateContainerd } from "./helpers/containerd.js";
import { eventually, requireTool } from "./helpers/tools.js";

// criu 3.17 cannot dump processes on this kind of machine's kernel (`criu check`: vdso), so a
// checkpoint fails here. What is tested is how: the error names criu, nothing half-written is
// left, and the task goes on running.
let ctd: PrivateContainerd;

beforeAll(async () => {
  await requireTool("criu", "criu");
  ctd = await startContainerd();
}, 60_000);

afterAll(async () => {
  await ctd?.destroy();
}, 60_000);

const partials = async () => (await readdir(tmpdir())).filter((name) => name.includes(".partial-"));

describe("checkpoint", () => {
  it("fails with an error naming criu and its log, leaves the task running and nothing half-written", async () => {
    await ctd.ctr(["run", "-d", "--runtime", RUNTIME, "tiny:latest", "cp1", "sleep", "1000"]);
    const before = await partials();
    const result = await ctd.ctrStatus(["tasks", "checkpoint", "cp1"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/checkpoint failed: criu could not dump the container/);
    expect(result.stderr).toMatch(/the task was left running/);
    expect(result.stderr).toMatch(/criu-dump\.log/);

    expect((await ctd.ctr(["tasks", "ls"])).stdout).toMatch(/^cp1\s+\d+\s+RUNNING/m);
    expect((await ctd.ctr(["tasks", "exec", "--exec-id", "alive", "cp1", "echo", "alive"])).stdout).toBe("alive\n");
    expect(await partials()).toEqual(before);
    // No checkpoint image was made of it.
    expect((await ctd.ctr(["images", "ls", "-q"])).stdout.split("\n").filter((ref) => ref.includes("checkpoint"))).toEqual([]);

    await ctd.ctr(["tasks", "kill", "-s", "SIGKILL", "cp1"]);
    await eventually(async () => ((await ctd.ctrStatus(["tasks", "delete", "cp1"])).code === 0 ? true : undefined));
    await ctd.ctr(["containers", "rm", "cp1"]);
  });

  it("refuses to checkpoint a stopped task", async () => {
    await ctd.ctr(["run", "-d", "--runtime", RUNTIME, "tiny:latest", "cp2", "true"]);
    await eventually(async () => ((await ctd.ctr(["tasks", "ls"])).stdout.match(/^cp2\s+\d+\s+STOPPED/m) ? true : undefined));
    const result = await ctd.ctrStatus(["tasks", "checkpoint", "cp2"]);
    expect(result.code).not.toBe(0);
    // ctr pauses a task before it checkpoints it; either refusal names the stopped state.
    expect(result.stderr).toMatch(/cannot (pause|checkpoint) a stopped container/);
    await ctd.ctr(["tasks", "delete", "cp2"]);
    await ctd.ctr(["containers", "rm", "cp2"]);
  });
});
