import { existsSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { shimSocketAddress } from "../src/index.js";
import { RUNTIME, startContainerd, type PrivateContainerd } from "./helpers/containerd.js";
import { watchEvents } from "./helpers/events.js";
import { alive, eventually } from "./helpers/tools.js";

// One shim process serving many containers: the memory goal.
let ctd: PrivateContainerd | undefined;

afterEach(async () => {
  await ctd?.destroy();
  ctd = undefined;
}, 60_000);

const runDetached = (c: PrivateContainerd, id: string, extra: string[] = []) =>
  c.ctr(["run", "-d", "--runtime", RUNTIME, ...extra, "tiny:latest", id, "sleep", "1000"]);

async function remove(c: PrivateContainerd, id: string): Promise<void> {
  await c.ctr(["tasks", "kill", "-s", "SIGKILL", id]);
  await eventually(async () => ((await c.ctrStatus(["tasks", "delete", id])).code === 0 ? true : undefined));
  await c.ctr(["containers", "rm", id]);
}

describe("shim groups", () => {
  it("containers annotated with one group share a shim; it goes with the group's last container", async () => {
    const c = (ctd = await startContainerd());
    await runDetached(c, "a1", ["--annotation", "io.containerd.runc.v2.group=pod1"]);
    await runDetached(c, "a2", ["--annotation", "io.containerd.runc.v2.group=pod1"]);
    await runDetached(c, "b1", ["--annotation", "io.kubernetes.cri.sandbox-id=pod2"]);
    await runDetached(c, "solo");
    const shims = await c.shims();
    expect(shims).toHaveLength(3);
    const socket = (id: string) => shimSocketAddress(c.socket, c.namespace, id).slice("unix://".length);
    expect(existsSync(socket("pod1"))).toBe(true);
    expect(existsSync(socket("pod2"))).toBe(true);
    expect(existsSync(socket("solo"))).toBe(true);

    const pod1 = shims.find((s) => s.argv.includes("a1"))!;
    await remove(c, "a1");
    // a2 still runs in it, and is still served.
    expect(alive(pod1.pid)).toBe(true);
    expect((await c.ctr(["tasks", "exec", "--exec-id", "x", "a2", "echo", "served"])).stdout).toBe("served\n");
    await remove(c, "a2");
    await eventually(() => (alive(pod1.pid) ? undefined : true), 50);
    expect(existsSync(socket("pod1"))).toBe(false);

    await remove(c, "b1");
    await remove(c, "solo");
    await eventually(async () => ((await c.shims()).length === 0 ? true : undefined), 50);
  });

  it("BERTH_SHIM_GROUP=namespace serves a whole namespace from one shim, across a daemon restart", async () => {
    const c = (ctd = await startContainerd({ env: { BERTH_SHIM_GROUP: "namespace" } }));
    const ids = ["n1", "n2", "n3", "n4"];
    await Promise.all(ids.map((id) => runDetached(c, id)));
    const shims = await c.shims();
    expect(shims).toHaveLength(1);
    const tasks = (await c.ctr(["tasks", "ls"])).stdout;
    for (const id of ids) expect(tasks).toMatch(new RegExp(`^${id}\\s+\\d+\\s+RUNNING`, "m"));

    // Each container's events name only it.
    const events = await watchEvents(c.socket);
    try {
      await c.ctr(["tasks", "kill", "-s", "SIGKILL", "n1"]);
      await events.waitFor("/tasks/exit", "n1");
      expect(events.events.filter((e) => e.topic === "/tasks/exit")).toHaveLength(1);
    } finally {
      events.stop();
    }

    await c.stop(true);
    await c.restart();
    const after = (await c.ctr(["tasks", "ls"])).stdout;
    expect(after).toMatch(/^n1\s+\d+\s+STOPPED/m);
    for (const id of ["n2", "n3", "n4"]) expect(after).toMatch(new RegExp(`^${id}\\s+\\d+\\s+RUNNING`, "m"));
    expect((await c.ctr(["tasks", "exec", "--exec-id", "x", "n3", "echo", "served"])).stdout).toBe("served\n");
    expect((await c.shims()).map((s) => s.pid)).toEqual([shims[0]!.pid]);

    await c.ctr(["tasks", "delete", "n1"]);
    await c.ctr(["containers", "rm", "n1"]);
    for (const id of ["n2", "n3", "n4"]) await remove(c, id);
    await eventually(() => (alive(shims[0]!.pid) ? undefined : true), 50);
  });
});
