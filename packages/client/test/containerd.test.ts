// The client's containers and tasks against Debian's containerd: what it stores matches what
// ctr stores for the same options, and a task runs through the API with real IO.
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, daemonDefaultRuntime, type BerthClient } from "../src/index.js";
import { startContainerdWithTiny, TINY, type ContainerdWithTiny } from "./helpers/containerd-with-tiny.js";

function collect() {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

describe("client containers and tasks against Debian's containerd", () => {
  let ctd: ContainerdWithTiny;
  let client: BerthClient;
  beforeAll(async () => {
    ctd = await startContainerdWithTiny();
    client = createClient({ address: ctd.address, namespace: ctd.namespace });
  }, 120_000);
  afterAll(async () => {
    client?.close();
    await ctd?.stop();
  }, 60_000);

  it("newContainer stores the record and spec ctr stores for the same options, on a snapshot of the image's top chain ID", async () => {
    // ctr 1.6 has no --user: the user is checked against the image's /etc/passwd below.
    await ctd.ctr("containers", "create", "--env", "GREETING=hi", "--cwd", "/tmp", TINY, "by-ctr", "echo", "hi");
    await client.newContainer("by-berth", { image: TINY, env: ["GREETING=hi"], cwd: "/tmp", args: ["echo", "hi"] });
    await client.newContainer("as-user", { image: TINY, user: "user" });
    expect((await (await client.loadContainer("as-user")).spec()).process?.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000] });
    const ours = await (await client.loadContainer("by-berth")).info();
    const theirs = JSON.parse(await ctd.ctr("containers", "info", "by-ctr")) as {
      Labels: Record<string, string>;
      Image: string;
      Runtime: { Name: string; Options: { type_url: string } };
      Snapshotter: string;
      Spec: { process: { user: unknown; args: string[]; env: string[]; cwd: string }; root: unknown; linux: { devices?: unknown[] } };
    };
    expect(ours).toMatchObject({ image: theirs.Image, labels: theirs.Labels, snapshotter: theirs.Snapshotter, snapshotKey: "by-berth" });
    expect(ours.runtime.name).toBe(theirs.Runtime.Name);
    expect(ours.runtime.options?.typeUrl).toBe(theirs.Runtime.Options.type_url);
    const p = ours.spec!.process!;
    expect({ user: p.user, args: p.args, env: p.env, cwd: p.cwd }).toEqual({
      user: theirs.Spec.process.user,
      args: theirs.Spec.process.args,
      env: theirs.Spec.process.env,
      cwd: theirs.Spec.process.cwd,
    });
    expect(ours.spec!.root).toEqual(theirs.Spec.root);
    expect(ours.spec!.linux?.devices?.length).toBe(theirs.Spec.linux.devices?.length);
    expect(await ctd.ctr("snapshots", "info", "by-berth")).toContain(`"Parent": "${ctd.tinyChainId}"`);
    // The lease that held the snapshot while the container was made is gone.
    expect((await ctd.ctr("leases", "ls", "-q")).trim()).toBe("");
    for (const id of ["by-ctr", "by-berth", "as-user"]) await ctd.ctr("containers", "rm", id);
  });

  it("a daemon that exports no default runtime (containerd 1.6) gets containerd's, the Go shim", async () => {
    expect(await daemonDefaultRuntime(client.service, {})).toBe("io.containerd.runc.v2");
  });

  it("a failing newContainer leaves no snapshot, container or lease", async () => {
    await expect(client.newContainer("bad-user", { image: TINY, user: "nosuchuser" })).rejects.toMatchObject({ errClass: "NotFound" });
    expect(await ctd.ctr("containers", "ls", "-q")).not.toContain("bad-user");
    expect(await ctd.ctr("snapshots", "ls")).not.toMatch(/^bad-user\s/m);
    expect((await ctd.ctr("leases", "ls", "-q")).trim()).toBe("");
  });

  it("runs a task with stdin, stdout and stderr; exec, pids, metrics; a forced delete kills it", async () => {
    const container = await client.newContainer("api-task", { image: TINY, args: ["sh", "-c", "read line; echo \"out:$line\"; echo err >&2; sleep 1000"] });
    const stdin = new PassThrough();
    const out = collect();
    const err = collect();
    const task = await container.newTask({ stdin, stdout: out.stream, stderr: err.stream });
    expect(task.pid).toBeGreaterThan(0);
    expect(await task.start()).toBe(task.pid);
    stdin.end("typed\n");
    while (!err.text().includes("err")) await new Promise((r) => setTimeout(r, 20));
    expect(out.text()).toBe("out:typed\n");
    expect((await task.state()).status).toBe("running");

    const execOut = collect();
    const proc = await task.exec("x1", await container.execSpec({ args: ["sh", "-c", "echo exec-$((6*7)); sleep 1000"] }), { stdout: execOut.stream, stderr: execOut.stream });
    await proc.start();
    while (!execOut.text().includes("exec-42")) await new Promise((r) => setTimeout(r, 20));
    const pids = await task.pids();
    expect(pids).toContainEqual({ pid: task.pid, execId: undefined });
    expect(pids.some((p) => p.execId === "x1")).toBe(true);

    const metrics = await task.metrics();
    expect(metrics.id).toBe("api-task");
    expect(metrics.data?.version).toBe(1); // this host's cgroups are v1 (hybrid)
    if (metrics.data?.version === 1) {
      expect(metrics.data.memory?.usage).toBeGreaterThan(0n);
      expect(metrics.data.pids?.current).toBe(2n);
    }

    await proc.kill(9);
    expect((await proc.wait()).code).toBe(137);
    expect((await proc.delete()).code).toBe(137);

    await expect(task.delete()).rejects.toMatchObject({ errClass: "FailedPrecondition" });
    expect((await task.delete({ force: true })).code).toBe(137);
    await container.delete({ snapshotCleanup: true });
    expect(await ctd.ctr("snapshots", "ls")).not.toMatch(/^api-task\s/m);
  });
});
