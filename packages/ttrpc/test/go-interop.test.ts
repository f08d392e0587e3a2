// Interop with real Go ttrpc peers: Debian's containerd-shim-runc-v2 (containerd 1.6, ttrpc
// 1.1) serves containerd.task.v2.Task to Berth's client and forwards its events to Berth's
// server through containerd.services.events.ttrpc.v1.Events.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { classOf, isNotFound, type CallContext } from "@berth/core";
import { eventPayloads, shimTaskApi, ttrpcEventsApi, types, unpackAny } from "@berth/api";
import { requireTool } from "@berth/testing";
import { createTtrpcClient, createTtrpcServer, type TtrpcClient, type TtrpcServer } from "../src/index.js";
import { exists, startShim, waitGone, writeBusyboxBundle, type StartedShim } from "./go-shim.js";
import { tempDir } from "./helpers.js";

interface Forwarded {
  readonly envelope: types.Envelope;
  readonly ctx: CallContext;
}

let dir: string;
let cleanup: () => Promise<void>;
let namespace: string;
let events: TtrpcServer;
let forwarded: Forwarded[];
let onForward: (() => void) | undefined;
let shim: StartedShim | undefined;
let shimPid: number | undefined;
let client: TtrpcClient<typeof shimTaskApi.Task> | undefined;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  namespace = `berth-ttrpc-${randomBytes(4).toString("hex")}`;
  forwarded = [];
  events = createTtrpcServer();
  events.register(ttrpcEventsApi.Events, {
    async forward(req, ctx) {
      if (req.envelope) forwarded.push({ envelope: req.envelope, ctx });
      onForward?.();
      return {};
    },
  });
  await events.listen(join(dir, "events.sock"));
  shim = undefined;
  shimPid = undefined;
  client = undefined;
});

afterEach(async () => {
  await client?.close();
  await shim?.cleanup(shimPid);
  await events.close();
  // runc's state directory for the namespace, made by the shim.
  await rm(join("/run/containerd/runc", namespace), { recursive: true, force: true });
  await cleanup();
});

async function launch(bundle: string, id: string): Promise<TtrpcClient<typeof shimTaskApi.Task>> {
  const binary = await requireTool("containerd-shim-runc-v2", "containerd");
  shim = await startShim({
    shim: binary,
    bundle,
    namespace,
    id,
    grpcAddress: join(dir, "containerd.sock"),
    ttrpcAddress: join(dir, "events.sock"),
  });
  client = createTtrpcClient(shim.socket, shimTaskApi.Task, { namespace, timeoutMs: 20_000 });
  shimPid = (await client.connect({ id })).shimPid;
  return client;
}

/** Asks the shim to exit, and waits until it has, its socket gone. */
async function shutDown(task: TtrpcClient<typeof shimTaskApi.Task>, id: string): Promise<void> {
  // The shim may exit before its answer leaves; either way the connection then closes.
  const answer = await task.shutdown({ id }).then(
    () => "ok",
    (err: unknown) => classOf(err),
  );
  expect(["ok", "Unavailable"]).toContain(answer);
  expect(classOf(await task.connection.closed)).toBe("Unavailable");
  await waitGone(shimPid!);
  expect(await exists(shim!.socket)).toBe(false);
}

describe("Berth's ttrpc client against containerd-shim-runc-v2", () => {
  it("connects, gets NotFound for an unknown task, and shuts the shim down", async () => {
    const bundle = join(dir, "bundle");
    await mkdir(bundle);
    await writeFile(join(bundle, "config.json"), "{}");
    const task = await launch(bundle, "t1");
    expect(shimPid).toBeGreaterThan(0);

    const err = await task.state({ id: "no-such-task" }).catch((e: unknown) => e);
    expect(isNotFound(err)).toBe(true);
    expect((err as Error).message).toMatch(/not created/);

    // Many calls at once on the one connection, against Go's server.
    const many = await Promise.all(Array.from({ length: 200 }, () => task.connect({ id: "t1" })));
    expect(new Set(many.map((r) => r.shimPid))).toEqual(new Set([shimPid]));

    await shutDown(task, "t1");
  });

  it("receives the shim's /tasks/create event on Berth's events server, namespace in its metadata", async () => {
    const runc = await requireTool("runc", "runc");
    const busybox = await requireTool("busybox", "busybox-static");
    const id = "c1";
    const bundle = join(dir, id);
    await mkdir(bundle);
    await writeBusyboxBundle(bundle, runc, busybox, `/${namespace}-${id}`);
    const task = await launch(bundle, id);

    const created = await task.create({ id, bundle });
    expect(created.pid).toBeGreaterThan(0);
    while (!forwarded.some((f) => f.envelope.topic === "/tasks/create")) await new Promise<void>((resolve) => (onForward = resolve));

    const { envelope, ctx } = forwarded.find((f) => f.envelope.topic === "/tasks/create")!;
    expect(envelope.namespace).toBe(namespace);
    expect(ctx.namespace).toBe(namespace);
    expect(envelope.event?.typeUrl).toMatch(/containerd\.events\.TaskCreate$/);
    const event = unpackAny(eventPayloads.TaskCreateSchema, envelope.event!);
    expect(event).toMatchObject({ containerId: id, bundle, pid: created.pid });

    const state = await task.state({ id });
    expect(state.status).toBe(1); // CREATED

    const deleted = await task.delete({ id });
    expect(deleted.pid).toBe(created.pid);
    while (!forwarded.some((f) => f.envelope.topic === "/tasks/delete")) await new Promise<void>((resolve) => (onForward = resolve));
    expect(isNotFound(await task.state({ id }).catch((e: unknown) => e))).toBe(true);

    await shutDown(task, id);
  });
});
