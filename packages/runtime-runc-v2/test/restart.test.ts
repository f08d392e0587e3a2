import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUNTIME, startContainerd, type PrivateContainerd } from "./helpers/containerd.js";
import { watchEvents } from "./helpers/events.js";
import { alive, eventually } from "./helpers/tools.js";

let ctd: PrivateContainerd;

beforeAll(async () => {
  ctd = await startContainerd();
}, 60_000);

afterAll(async () => {
  await ctd?.destroy();
}, 60_000);

async function taskStatus(id: string): Promise<string | undefined> {
  const { stdout } = await ctd.ctr(["tasks", "ls"]);
  return stdout.split("\n").find((line) => line.startsWith(`${id} `))?.trim().split(/\s+/)[2];
}

describe("daemon restarts", () => {
  it("a task keeps running while containerd is killed, and the restarted daemon reconnects to its shim", async () => {
    await ctd.ctr(["run", "-d", "--runtime", RUNTIME, "tiny:latest", "r1", "sleep", "1000"]);
    const [shim] = await ctd.shims("r1");
    expect(shim).toBeDefined();

    await ctd.stop(true);
    expect(alive(shim!.pid)).toBe(true);
    await ctd.restart();

    expect(await taskStatus("r1")).toBe("RUNNING");
    const exec = await ctd.ctrStatus(["tasks", "exec", "--exec-id", "after", "r1", "echo", "still-here"]);
    expect(exec).toMatchObject({ code: 0, stdout: "still-here\n" });

    // Events reach the new daemon: the shim reconnects to its ttrpc socket.
    const events = await watchEvents(ctd.socket);
    try {
      await ctd.ctr(["tasks", "kill", "-s", "SIGKILL", "r1"]);
      // The exec's exit may arrive late too: it was sent while the daemon was away.
      const exit = await eventually(() => events.events.find((e) => e.topic === "/tasks/exit" && /"id":"r1"/.test(e.body)));
      expect(exit.body).toMatch(/"exit_status":137/);
      expect(await taskStatus("r1")).toBe("STOPPED");
      await ctd.ctr(["tasks", "delete", "r1"]);
      await ctd.ctr(["containers", "rm", "r1"]);
      await events.waitFor("/tasks/delete", "r1");
    } finally {
      events.stop();
    }
    // Its last container gone, the shim exits.
    await eventually(() => (alive(shim!.pid) ? undefined : true), 50);
  });

  it("a daemon that finds its shim dead cleans up after it with the shim's delete command", async () => {
    await ctd.ctr(["run", "-d", "--runtime", RUNTIME, "tiny:latest", "r2", "sleep", "1000"]);
    const [shim] = await ctd.shims("r2");
    await ctd.stop(true);
    process.kill(shim!.pid, "SIGKILL");
    await eventually(() => (alive(shim!.pid) ? undefined : true), 20);
    await ctd.restart();
    // containerd runs `containerd-shim-berth-v2 … delete`: runc deletes the container (killing
    // its processes) and the task is gone.
    await eventually(async () => ((await ctd.ctr(["tasks", "ls", "-q"])).stdout.includes("r2") ? undefined : true), 100);
    expect((await ctd.ctr(["containers", "ls", "-q"])).stdout).toContain("r2");
    await ctd.ctr(["containers", "rm", "r2"]);
  });
});
