import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, constants, openSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { Socket } from "node:net";
import { join, resolve } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { eventPayloads, shimTaskApi, ttrpcEventsApi, type AnyPayload } from "@berth/api";
import { createTtrpcClient, createTtrpcServer, type TtrpcClient, type TtrpcServer } from "@berth/ttrpc";
import { MNT_DETACH, mkfifo, umount2 } from "@berth/native";
import { removeNamespaceCgroups } from "./containerd.js";
import { alive, mountsUnder, processesWith, requireRoot, requireTool, run } from "./tools.js";

const SHIM_SCRIPT = resolve(import.meta.dirname, "../../dist/bin/shim.js");

/**
 * Berth's shim driven the way a daemon drives it, without containerd: `start` in a bundle, the
 * Task API over ttrpc, events received on a ttrpc Events server of the test's own.
 */
export interface ShimHarness {
  readonly dir: string;
  readonly namespace: string;
  /** What the shim takes as the daemon's address (only hashed into socket names here). */
  readonly daemonAddress: string;
  readonly events: { topic: string; event: AnyPayload }[];
  /** A bundle for `id`: runc's default spec running `args`, and an image directory to bind as its rootfs. */
  bundle(id: string, args: string[], annotations?: Record<string, string>): Promise<{ bundle: string; image: string }>;
  /** Runs the shim binary with containerd's flags in `cwd`; its stdout (bytes) and exit code. */
  shim(cwd: string, id: string, action: string, extra?: string[], stdin?: Uint8Array): Promise<{ code: number; stdout: Buffer; stderr: string }>;
  /** `start` for a bundle, then a Task client on the printed address. */
  start(id: string, bundle: string): Promise<{ address: string; task: TtrpcClient<typeof shimTaskApi.Task> }>;
  /** Shim log lines (the bundle's log FIFO) seen so far. */
  log(): string;
  /** Decoded payloads of received events with `topic`. */
  payloads(topic: string): unknown[];
  /** Runtime roots the test used besides the default one, force-cleaned at close. */
  readonly runcRoots: string[];
  close(): Promise<void>;
}

export async function createShimHarness(): Promise<ShimHarness> {
  requireRoot();
  await requireTool("runc", "runc");
  const busybox = await requireTool("busybox", "busybox-static");
  const dir = await mkdtemp("/tmp/berth-shim-direct-");
  const namespace = `bdirect-${randomBytes(3).toString("hex")}`;
  const daemonAddress = join(dir, "daemon.sock");
  const eventsSocket = join(dir, "events.sock");
  const events: { topic: string; event: AnyPayload }[] = [];
  const server: TtrpcServer = createTtrpcServer();
  server.register(ttrpcEventsApi.Events, {
    async forward(req) {
      const envelope = req.envelope!;
      events.push({ topic: envelope.topic, event: { typeUrl: envelope.event!.typeUrl, value: envelope.event!.value } });
      return {};
    },
  });
  await server.listen(eventsSocket);
  const logs: string[] = [];
  const readers: Socket[] = [];
  const clients: { close(): Promise<void> }[] = [];
  const runcRoots = [`/run/containerd/runc/${namespace}`];

  const shim = (cwd: string, id: string, action: string, extra: string[] = [], stdin?: Uint8Array) =>
    new Promise<{ code: number; stdout: Buffer; stderr: string }>((resolvePromise, reject) => {
      const child = spawn(process.execPath, [SHIM_SCRIPT, "-namespace", namespace, "-address", daemonAddress, "-publish-binary", "/bin/false", "-id", id, ...extra, action], {
        cwd,
        // One shim per container, as these tests expect, unless a group annotation says otherwise.
        env: { ...process.env, BERTH_SHIM_GROUP: "container", TTRPC_ADDRESS: eventsSocket },
        stdio: ["pipe", "pipe", "pipe"],
      });
      const out: Buffer[] = [];
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => out.push(c));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      child.stdin.end(stdin ?? new Uint8Array());
      child.once("error", reject);
      child.once("close", (code) => resolvePromise({ code: code ?? -1, stdout: Buffer.concat(out), stderr }));
    });

  return {
    dir,
    namespace,
    daemonAddress,
    events,
    async bundle(id, args, annotations) {
      const bundle = join(dir, "bundles", id);
      const image = join(dir, "images", id);
      await mkdir(join(image, "bin"), { recursive: true });
      await copyFile(busybox, join(image, "bin", "busybox"));
      // Relative links: `busybox --install -s` would point at the host's path.
      const { stdout } = await run(busybox, ["--list"]);
      const { symlink } = await import("node:fs/promises");
      for (const applet of stdout.split("\n").filter((a) => a !== "" && a !== "busybox")) await symlink("busybox", join(image, "bin", applet));
      await mkdir(bundle, { recursive: true });
      await run("runc", ["spec", "--bundle", bundle]);
      const spec = JSON.parse(await readFile(join(bundle, "config.json"), "utf8")) as Record<string, any>;
      spec["process"].terminal = false;
      spec["process"].args = args;
      spec["root"] = { path: "rootfs", readonly: false };
      spec["linux"].cgroupsPath = `/${namespace}/${id}`;
      if (annotations) spec["annotations"] = annotations;
      await writeFile(join(bundle, "config.json"), JSON.stringify(spec));
      // The shim's log FIFO, read as containerd reads it.
      mkfifo(join(bundle, "log"), 0o600);
      const fd = openSync(join(bundle, "log"), constants.O_RDONLY | constants.O_NONBLOCK);
      const reader = new Socket({ fd, readable: true, writable: false });
      reader.on("data", (c: Buffer) => logs.push(c.toString()));
      reader.on("error", () => {});
      readers.push(reader);
      return { bundle, image };
    },
    shim,
    async start(id, bundle) {
      const result = await shim(bundle, id, "start");
      if (result.code !== 0) throw new Error(`shim start exited ${result.code}: ${result.stderr}`);
      const address = result.stdout.toString().trim();
      const task = createTtrpcClient(address, shimTaskApi.Task, { namespace, timeoutMs: 20_000 });
      clients.push(task);
      return { address, task };
    },
    log: () => logs.join(""),
    payloads(topic) {
      const schemas: Record<string, Parameters<typeof fromBinary>[0]> = {
        "/tasks/create": eventPayloads.TaskCreateSchema,
        "/tasks/start": eventPayloads.TaskStartSchema,
        "/tasks/exit": eventPayloads.TaskExitSchema,
        "/tasks/delete": eventPayloads.TaskDeleteSchema,
        "/tasks/exec-added": eventPayloads.TaskExecAddedSchema,
        "/tasks/exec-started": eventPayloads.TaskExecStartedSchema,
      };
      return events.filter((e) => e.topic === topic).map((e) => fromBinary(schemas[topic]!, e.event.value));
    },
    runcRoots,
    async close() {
      for (const client of clients) await client.close();
      for (const p of await processesWith(daemonAddress)) if (alive(p.pid)) process.kill(p.pid, "SIGKILL");
      for (const root of runcRoots) {
        const ids = await import("node:fs/promises").then((fs) => fs.readdir(root)).catch(() => [] as string[]);
        for (const id of ids) await run("runc", ["--root", root, "delete", "--force", id]).catch(() => {});
        await rm(root, { recursive: true, force: true });
      }
      for (const point of (await mountsUnder(dir)).reverse()) {
        try {
          umount2(point, MNT_DETACH);
        } catch {
          // gone
        }
      }
      await removeNamespaceCgroups(namespace);
      for (const reader of readers) reader.destroy();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Closes a descriptor if it is still open (test clean-up). */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // closed
  }
}
