// Containers outlive berthd: the real berthd (found plugins through node_modules) runs a
// detached container, is killed with SIGKILL or stopped with SIGTERM, and comes back to find
// its task running under the same shim; shims that died meanwhile, or while it watched, are
// cleaned up after with their binary's `delete`, and their exits published.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkfifo } from "@berth/native";
import { createBundle, runShimStart, SHIM_BINARY_FILE, writeShimAddress } from "../src/index.js";
import { startBerthd, pluginApp, type BerthdProcess } from "./berthd-process.js";
import {
  ctrIn,
  eventually,
  exists,
  IMAGE,
  importTiny,
  leftoversOf,
  processesMentioning,
  removeClientFifos,
  removeDir,
  removeNamespaceTraces,
  requireRoot,
  requireTool,
  tempDir,
  tinyArchive,
  waitSubscribed,
  watchEvents,
} from "./harness.js";

/** This file follows containerd's protocol with Debian's Go shim: one shim per container. */
const GO_SHIM = ["--runtime", "io.containerd.runc.v2"];

const rows = (table: string) =>
  table
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.trim().split(/\s+/));

describe("berthd restarts while containers run", () => {
  let dir: string;
  let app: string;
  let berthd: BerthdProcess | undefined;
  const ns = `berth-rs-${randomBytes(3).toString("hex")}`;
  let address: string;
  let ctr: (...args: string[]) => Promise<string>;
  const ids = ["survivor", "orphan", "victim"];

  const statusOf = async (id: string) => rows(await ctr("tasks", "ls")).find((r) => r[0] === id)?.[2];
  const shimPid = async (id: string) => {
    const lines = await processesMentioning(`-namespace ${ns} -id ${id} `);
    const shims = lines.filter((l) => l.includes("containerd-shim-runc-v2"));
    expect(shims, `one shim for ${id}`).toHaveLength(1);
    return Number(shims[0]!.trim().split(/\s+/)[0]);
  };
  const bundle = (id: string) => join(dir, "state", "io.containerd.runtime.v2.task", ns, id);
  const address_ = () => address;

  async function kill(signal: NodeJS.Signals): Promise<void> {
    berthd!.child.kill(signal);
    await berthd!.exited;
    berthd = undefined;
  }

  beforeAll(async () => {
    requireRoot();
    for (const tool of ["ctr", "runc", "containerd-shim-runc-v2"]) await requireTool(tool);
    dir = await tempDir("berth-rs-");
    app = await pluginApp(dir);
    address = join(dir, "b.sock");
    ctr = ctrIn(address, ns);
    berthd = await startBerthd(dir, app);
    await importTiny(ctr, await tinyArchive(dir));
  }, 120_000);

  afterAll(async () => {
    berthd ??= await startBerthd(dir, app).catch(() => undefined);
    if (berthd) {
      for (const id of ids) {
        await ctr("tasks", "kill", "-s", "SIGKILL", id).catch(() => undefined);
        await ctr("tasks", "rm", "-f", id).catch(() => undefined);
      }
      await kill("SIGTERM");
    }
    for (const line of await processesMentioning(`-namespace ${ns} `)) process.kill(Number(line.trim().split(/\s+/)[0]), "SIGKILL");
    await removeNamespaceTraces(ns);
    await removeClientFifos(ids);
    if (dir) await removeDir(dir);
  }, 60_000);

  it("after SIGKILL, the restarted berthd lists the task RUNNING and its kill delivers the exit event", async () => {
    await ctr("run", "-d", ...GO_SHIM, IMAGE, "survivor", "sleep", "1000");
    const shim = await shimPid("survivor");
    const [row] = rows(await ctr("tasks", "ls")).filter((r) => r[0] === "survivor");
    await kill("SIGKILL");
    process.kill(shim, 0); // the shim lives on

    berthd = await startBerthd(dir, app);
    expect(rows(await ctr("tasks", "ls")).find((r) => r[0] === "survivor")).toEqual(row);
    expect(await shimPid("survivor")).toBe(shim);

    const events = watchEvents(address);
    try {
      await waitSubscribed(events, address, ns);
      await ctr("tasks", "kill", "-s", "SIGKILL", "survivor");
      // The shim's own /tasks/exit, sent to the new daemon's ttrpc socket.
      await events.waitFor(/\/tasks\/exit \{"container_id":"survivor","id":"survivor".*"exit_status":137/);
      await eventually(async () => (await statusOf("survivor")) === "STOPPED", "survivor to stop");
      await ctr("tasks", "rm", "survivor");
      await events.waitFor(/\/tasks\/delete \{"container_id":"survivor"/);
    } finally {
      events.stop();
    }
    await ctr("containers", "rm", "survivor");
    expect(await leftoversOf(ns, ["survivor"], join(dir, "state"))).toEqual([]);
  }, 120_000);

  it("a graceful stop (SIGTERM) leaves shims running too", async () => {
    await ctr("run", "-d", ...GO_SHIM, IMAGE, "survivor", "sleep", "1000");
    const shim = await shimPid("survivor");
    await kill("SIGTERM");
    process.kill(shim, 0);
    berthd = await startBerthd(dir, app);
    expect(await statusOf("survivor")).toBe("RUNNING");
    await ctr("tasks", "kill", "-s", "SIGKILL", "survivor");
    await eventually(async () => (await statusOf("survivor")) === "STOPPED", "survivor to stop");
    await ctr("tasks", "rm", "survivor");
    await ctr("containers", "rm", "survivor");
  }, 120_000);

  it("a shim that died while berthd was down is cleaned up after at restart", async () => {
    await ctr("run", "-d", ...GO_SHIM, IMAGE, "orphan", "sleep", "1000");
    const shim = await shimPid("orphan");
    await kill("SIGKILL");
    process.kill(shim, "SIGKILL");
    await eventually(async () => (await processesMentioning(`-namespace ${ns} -id orphan `)).length === 0, "the shim to die");

    berthd = await startBerthd(dir, app);
    expect(await statusOf("orphan")).toBeUndefined();
    // The shim binary's delete ran: runc's container (its sleep) is gone, so is the bundle.
    expect(await exists(bundle("orphan"))).toBe(false);
    await ctr("containers", "rm", "orphan");
    expect(await leftoversOf(ns, ["orphan"], join(dir, "state"), { clientFifos: false })).toEqual([]);
  }, 120_000);

  it("a shim that never got its task, and a bundle with no shim address, are cleaned up at restart", async () => {
    await kill("SIGTERM");
    const dirs = { state: join(dir, "state", "io.containerd.runtime.v2.task"), root: join(dir, "root", "io.containerd.runtime.v2.task") };
    const binary = await requireTool("containerd-shim-runc-v2");
    // What a daemon killed between starting a shim and creating its task leaves: a bundle and a live shim.
    const leaked = await createBundle(dirs, ns, "leaked", { typeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Spec", value: new TextEncoder().encode("{}") });
    // The shim's server waits on its log pipe until a daemon reads it.
    mkfifo(join(leaked.path, "log"), 0o700);
    const address = await runShimStart(
      { binary, namespace: ns, id: "leaked", bundle: leaked.path, grpcAddress: address_(), ttrpcAddress: `${address_()}.ttrpc`, publishBinary: "/bin/false", debug: false, env: [] },
      undefined,
    );
    await writeShimAddress(leaked.path, address);
    await writeFile(join(leaked.path, SHIM_BINARY_FILE), binary);
    expect(await processesMentioning(`-namespace ${ns} -id leaked `)).toHaveLength(1);
    // A bundle whose shim never said where it listens.
    const mute = await createBundle(dirs, ns, "mute", undefined);
    await writeFile(join(mute.path, SHIM_BINARY_FILE), binary);

    berthd = await startBerthd(dir, app);
    expect(await exists(leaked.path)).toBe(false);
    expect(await exists(mute.path)).toBe(false);
    await eventually(async () => (await processesMentioning(`-namespace ${ns} -id leaked `)).length === 0, "the leaked shim to exit");
    expect(await leftoversOf(ns, ["leaked", "mute"], join(dir, "state"))).toEqual([]);
  }, 120_000);

  it("a shim that dies under a running berthd is cleaned up after, its task's exit published", async () => {
    await ctr("run", "-d", ...GO_SHIM, IMAGE, "victim", "sleep", "1000");
    const events = watchEvents(address);
    try {
      await waitSubscribed(events, address, ns);
      process.kill(await shimPid("victim"), "SIGKILL");
      await events.waitFor(/\/tasks\/exit \{"container_id":"victim","id":"victim".*"exit_status":137/);
      await events.waitFor(/\/tasks\/delete \{"container_id":"victim"/);
    } finally {
      events.stop();
    }
    await eventually(async () => !(await exists(bundle("victim"))), "the bundle to go");
    expect(await statusOf("victim")).toBeUndefined();
    await ctr("containers", "rm", "victim");
    expect(await leftoversOf(ns, ["victim"], join(dir, "state"), { clientFifos: false })).toEqual([]);
  }, 120_000);
});
