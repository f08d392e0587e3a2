// Berth's own shim under berthd: a namespace's containers share one shim process (the shim's
// default grouping), the daemon hands a known live group shim its next container without
// running `start`, keeps an idle one for a moment, and runs `delete` only for shims that died.
// The shim binary is a wrapper on PATH that logs each invocation, so processes are counted.
import { randomBytes } from "node:crypto";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, type Daemon } from "@berth/daemon";
import {
  configIn,
  ctrIn,
  eventually,
  IMAGE,
  importTiny,
  leftoversOf,
  processesMentioning,
  removeDir,
  removeNamespaceTraces,
  requireRoot,
  requireTool,
  runtimePlugins,
  tempDir,
  testLogger,
  tinyArchive,
} from "./harness.js";

const RUNTIME = "io.containerd.berth.v2";
const LINGER_MS = 1_500;

describe("Berth's group shim under berthd", () => {
  let dir: string;
  let daemon: Daemon | undefined;
  let invocations: string;
  const ns = `berth-grp-${randomBytes(3).toString("hex")}`;
  let ctr: (...args: string[]) => Promise<string>;
  const savedPath = process.env["PATH"];

  /** The shim binary's invocations so far: the action each ran (`start`, `delete`). */
  const actions = async () =>
    (await readFile(invocations, "utf8").catch(() => ""))
      .split("\n")
      .filter((l) => l.includes(`-namespace ${ns} `))
      .map((l) => l.trim().split(" ").at(-1));
  const shims = async () => (await processesMentioning(`-namespace ${ns} `)).filter((l) => l.includes("containerd-shim-berth-v2 --"));

  beforeAll(async () => {
    requireRoot();
    for (const tool of ["ctr", "runc"]) await requireTool(tool);
    dir = await tempDir("berth-grp-");
    invocations = join(dir, "invocations.log");
    const script = join(dirname(createRequire(import.meta.url).resolve("@berth/runtime-runc-v2")), "bin", "shim.js");
    const wrapper = join(dir, "containerd-shim-berth-v2");
    await writeFile(wrapper, `#!/bin/sh\necho "$*" >> ${JSON.stringify(invocations)}\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(script)} "$@"\n`);
    await chmod(wrapper, 0o755);
    process.env["PATH"] = `${dir}:${savedPath ?? ""}`;
    const config = configIn(dir);
    config.plugins["io.containerd.runtime.v2.task"] = { ...(config.plugins["io.containerd.runtime.v2.task"] as Record<string, unknown>), group_linger: `${LINGER_MS}ms` };
    daemon = await startDaemon({ plugins: runtimePlugins(), config, log: testLogger() });
    ctr = ctrIn(daemon.address, ns);
    await importTiny(ctr, await tinyArchive(dir));
  }, 120_000);

  afterAll(async () => {
    process.env["PATH"] = savedPath;
    if (daemon) {
      for (const line of (await ctr("tasks", "ls", "-q").catch(() => "")).split("\n").filter(Boolean)) {
        await ctr("tasks", "kill", "-s", "SIGKILL", line).catch(() => undefined);
        await ctr("tasks", "rm", "-f", line).catch(() => undefined);
      }
      await daemon.close();
    }
    for (const line of await shims()) process.kill(Number.parseInt(line.trim(), 10), "SIGKILL");
    await removeNamespaceTraces(ns);
    if (dir) await removeDir(dir);
  }, 60_000);

  it("the namespace's later containers join the running shim without a start process; an idle shim lingers, then goes", async () => {
    await ctr("run", "-d", "--runtime", RUNTIME, IMAGE, "g1", "sleep", "1000");
    await ctr("run", "-d", "--runtime", RUNTIME, IMAGE, "g2", "sleep", "1000");
    expect(await ctr("run", "--rm", "--runtime", RUNTIME, IMAGE, "g3", "echo", "joined")).toBe("joined\n");
    expect(await actions()).toEqual(["start"]);
    expect(await shims()).toHaveLength(1);
    expect((await ctr("tasks", "exec", "--exec-id", "x", "g2", "echo", "served")).trim()).toBe("served");

    for (const id of ["g1", "g2"]) {
      await ctr("tasks", "kill", "-s", "SIGKILL", id);
      await eventually(async () => (await ctr("tasks", "rm", id).then(() => true, () => false)), `task ${id} deleted`);
      await ctr("containers", "rm", id);
    }
    // No container left: the shim is kept for the group's next one...
    expect(await shims()).toHaveLength(1);
    expect(await ctr("run", "--rm", "--runtime", RUNTIME, IMAGE, "g4", "echo", "again")).toBe("again\n");
    expect(await actions()).toEqual(["start"]);
    // ...and shut down once the linger time passed with none; it had nothing to clean up.
    await eventually(async () => (await shims()).length === 0, "the idle group shim exits");
    expect(await actions()).toEqual(["start"]);
    expect(await leftoversOf(ns, ["g1", "g2", "g3", "g4"], join(dir, "state"))).toEqual([]);
  }, 120_000);

  it("containers started together in a namespace with no shim yet share one start", async () => {
    await eventually(async () => (await shims()).length === 0, "no shim left from before");
    const before = (await actions()).length;
    const ids = ["s1", "s2", "s3", "s4", "s5"];
    await Promise.all(ids.map((id) => ctr("run", "-d", "--runtime", RUNTIME, IMAGE, id, "sleep", "1000")));
    expect((await actions()).slice(before)).toEqual(["start"]);
    expect(await shims()).toHaveLength(1);
    for (const id of ids) {
      await ctr("tasks", "kill", "-s", "SIGKILL", id);
      await eventually(async () => (await ctr("tasks", "rm", id).then(() => true, () => false)), `task ${id} deleted`);
      await ctr("containers", "rm", id);
    }
    await eventually(async () => (await leftoversOf(ns, ids, join(dir, "state"))).length === 0, "everything cleaned up");
  }, 120_000);

  it("a group shim that dies is cleaned up with the binary's delete, once per container it served", async () => {
    const before = (await actions()).length;
    await ctr("run", "-d", "--runtime", RUNTIME, IMAGE, "d1", "sleep", "1000");
    await ctr("run", "-d", "--runtime", RUNTIME, IMAGE, "d2", "sleep", "1000");
    const [shim] = await shims();
    expect(shim).toBeDefined();
    process.kill(Number.parseInt(shim!.trim(), 10), "SIGKILL");
    await eventually(async () => (await ctr("tasks", "ls", "-q")).trim() === "", "the dead shim's tasks are gone");
    // The tasks leave the list first; each `delete` (runc delete --force, unmount) follows.
    await eventually(async () => (await leftoversOf(ns, ["d1", "d2"], join(dir, "state"), { clientFifos: false })).length === 0, "the dead shim's containers cleaned up");
    expect((await actions()).slice(before).sort()).toEqual(["delete", "delete", "start"]);
    for (const id of ["d1", "d2"]) await ctr("containers", "rm", id);
  }, 120_000);
});
