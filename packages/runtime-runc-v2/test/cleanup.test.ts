import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { shimSocketAddress } from "../src/index.js";
import { namespaceCgroupDirs, RUNTIME, startContainerd, type PrivateContainerd } from "./helpers/containerd.js";
import { eventually, mountsUnder, processesWith } from "./helpers/tools.js";

let ctd: PrivateContainerd | undefined;

afterEach(async () => {
  await ctd?.destroy();
  ctd = undefined;
}, 60_000);

/** run -d, kill, wait for the exit, delete the task, remove the container. */
async function cycle(c: PrivateContainerd, id: string): Promise<void> {
  await c.ctr(["run", "-d", "--runtime", RUNTIME, "tiny:latest", id, "sleep", "1000"]);
  await c.ctr(["tasks", "kill", "-s", "SIGKILL", id]);
  await eventually(async () => ((await c.ctrStatus(["tasks", "delete", id])).code === 0 ? true : undefined), 50);
  await c.ctr(["containers", "rm", id]);
}

/** Everything a container could leave behind, listed; empty when nothing is. */
async function leftovers(c: PrivateContainerd, ids: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const shim of await c.shims()) found.push(`shim process ${shim.pid}`);
  for (const point of await mountsUnder(c.dir)) found.push(`mount ${point}`);
  const bundles = join(c.dir, "state", "io.containerd.runtime.v2.task", c.namespace);
  for (const name of existsSync(bundles) ? await readdir(bundles) : []) found.push(`bundle ${name}`);
  const runcRoot = `/run/containerd/runc/${c.namespace}`;
  for (const name of existsSync(runcRoot) ? await readdir(runcRoot) : []) found.push(`runc state ${name}`);
  for (const dir of await namespaceCgroupDirs(c.namespace)) {
    for (const entry of await readdir(dir, { withFileTypes: true })) if (entry.isDirectory()) found.push(`cgroup ${join(dir, entry.name)}`);
  }
  for (const id of ids) {
    const socket = shimSocketAddress(c.socket, c.namespace, id).slice("unix://".length);
    if (existsSync(socket)) found.push(`shim socket ${socket}`);
  }
  const groupSocket = shimSocketAddress(c.socket, c.namespace, "@namespace").slice("unix://".length);
  if (existsSync(groupSocket)) found.push(`shim socket ${groupSocket}`);
  // ctr's FIFOs live in /run/containerd/fifo/<random>/<id>-stdout…
  for (const dir of existsSync("/run/containerd/fifo") ? await readdir("/run/containerd/fifo") : []) {
    for (const name of await readdir(join("/run/containerd/fifo", dir)).catch(() => [] as string[])) {
      if (ids.some((id) => name.startsWith(`${id}-`))) found.push(`fifo ${name}`);
    }
  }
  // Zombies: a process that died and nobody reaped, among the runtimes these tests ran.
  for (const p of await processesWith(c.namespace)) {
    const stat = await import("node:fs/promises").then((fs) => fs.readFile(`/proc/${p.pid}/stat`, "utf8")).catch(() => "");
    if (/\) Z /.test(stat)) found.push(`zombie ${p.pid}`);
  }
  return found;
}

describe("clean-up", () => {
  for (const mode of ["container", "namespace"] as const) {
    it(`10 concurrent run/kill/rm cycles leave nothing behind (BERTH_SHIM_GROUP=${mode})`, async () => {
      const c = (ctd = await startContainerd({ env: { BERTH_SHIM_GROUP: mode } }));
      const ids = Array.from({ length: 10 }, (_, i) => `cy${i}`);
      await Promise.all(ids.map((id) => cycle(c, id)));
      // Shims exit after their last Shutdown: a group's shim half a second later (it keeps its
      // socket that long for a container whose `start` found it), then nothing may be left.
      const rest = await eventually(async () => {
        const found = await leftovers(c, ids);
        return found.some((f) => f.startsWith("shim process")) ? undefined : found;
      }, 50);
      expect(rest).toEqual([]);
    }, 120_000);
  }
});
