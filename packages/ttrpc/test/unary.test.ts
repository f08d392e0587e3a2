import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { stat } from "node:fs/promises";
import { spawn } from "node:child_process";
import { once } from "node:events";
import {
  alreadyExists,
  classOf,
  failedPrecondition,
  invalidArgument,
  isNotFound,
  notFound,
  type CallContext,
} from "@berth/core";
import { shimTaskApi } from "@berth/api";
import { createTtrpcClient, createTtrpcConnection, createTtrpcServer, MAX_DATA_LENGTH, TTRPC_NAMESPACE_HEADER, type TtrpcServer } from "../src/index.js";
import { Echo } from "./echo-service.js";
import { tempDir } from "./helpers.js";

let dir: string;
let cleanup: () => Promise<void>;
let server: TtrpcServer;
let path: string;
const seen: CallContext[] = [];

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  path = join(dir, "t.sock");
  seen.length = 0;
  server = createTtrpcServer();
  server.register(Echo, {
    async say(req, ctx) {
      seen.push(ctx);
      if (req.text === "missing") throw notFound(`thing ${req.n} not found`);
      if (req.text === "exists") throw alreadyExists("already there");
      if (req.text === "precondition") throw failedPrecondition("not now");
      if (req.text === "invalid") throw invalidArgument("bad");
      if (req.text === "plain") throw new Error("plain failure");
      if (req.text === "wait") {
        await new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true }));
      }
      if (req.text === "big") return { blob: new Uint8Array(MAX_DATA_LENGTH) };
      return { text: `echo ${req.text}`, n: req.n * 2n, blob: req.blob };
    },
  });
  await server.listen(path);
});

afterEach(async () => {
  await server.close();
  await cleanup();
});

describe("unary calls, Berth client to Berth server", () => {
  it("round-trips a request and its response", async () => {
    const client = createTtrpcClient(path, Echo);
    const res = await client.say({ text: "hi", n: 21n, blob: new Uint8Array([1, 2, 3]) });
    expect(res.text).toBe("echo hi");
    expect(res.n).toBe(42n);
    expect([...res.blob]).toEqual([1, 2, 3]);
    await client.close();
  });

  it("creates the socket file with mode 0600 and removes it on close", async () => {
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await server.close();
    await expect(stat(path)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("multiplexes 1000 concurrent calls on one connection", async () => {
    const client = createTtrpcClient(path, Echo);
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => client.say({ text: String(i), n: BigInt(i) })));
    results.forEach((res, i) => {
      expect(res.text).toBe(`echo ${i}`);
      expect(res.n).toBe(BigInt(i * 2));
    });
    await client.close();
  });

  it("turns status errors back into errdefs classes", async () => {
    const client = createTtrpcClient(path, Echo);
    const classes = await Promise.all(
      ["missing", "exists", "precondition", "invalid", "plain"].map((text) => client.say({ text, n: 7n }).then(() => "ok", classOf)),
    );
    expect(classes).toEqual(["NotFound", "AlreadyExists", "FailedPrecondition", "InvalidArgument", "Unknown"]);
    const err = await client.say({ text: "missing", n: 7n }).catch((e: unknown) => e);
    expect(isNotFound(err)).toBe(true);
    expect((err as Error).message).toBe("thing 7 not found");
    await client.close();
  });

  it("carries metadata and the namespace, lower-casing keys as Go's ttrpc does", async () => {
    const client = createTtrpcClient(path, Echo, { namespace: "k8s.io", metadata: { "X-Default": "d", keep: "1" } });
    await client.say({ text: "md" }, { metadata: { "X-Trace": ["a", "b"], keep: "2" } });
    const ctx = seen[0]!;
    expect(ctx.namespace).toBe("k8s.io");
    expect(ctx.metadata.get(TTRPC_NAMESPACE_HEADER)).toEqual(["k8s.io"]);
    expect(ctx.metadata.get("x-trace")).toEqual(["a", "b"]);
    expect(ctx.metadata.get("x-default")).toEqual(["d"]);
    expect(ctx.metadata.get("keep")).toEqual(["2"]);
    await client.close();
  });

  it("rejects a malformed namespace with InvalidArgument before the handler runs", async () => {
    const client = createTtrpcClient(path, Echo);
    const err = await client.say({ text: "x" }, { namespace: "not a namespace!" }).catch((e: unknown) => e);
    expect(classOf(err)).toBe("InvalidArgument");
    expect(seen).toHaveLength(0);
    await client.close();
  });

  it("fails a call past its timeout with DeadlineExceeded, and the server's handler sees its signal abort", async () => {
    const client = createTtrpcClient(path, Echo);
    const err = await client.say({ text: "wait" }, { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(classOf(err)).toBe("DeadlineExceeded");
    // The server got the deadline as timeout_nano and aborted the handler on its own.
    const ctx = seen[0]!;
    if (!ctx.signal.aborted) await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
    expect(classOf(ctx.signal.reason)).toBe("DeadlineExceeded");
    // The connection stays usable.
    expect((await client.say({ text: "after" })).text).toBe("echo after");
    await client.close();
  });

  it("cancels a call with its AbortSignal", async () => {
    const client = createTtrpcClient(path, Echo);
    const controller = new AbortController();
    const call = client.say({ text: "wait" }, { signal: controller.signal });
    await sleep(10);
    controller.abort();
    expect(classOf(await call.catch((e: unknown) => e))).toBe("Canceled");
    expect(classOf(await client.say({ text: "x" }, { signal: AbortSignal.abort() }).catch((e: unknown) => e))).toBe("Canceled");
    await client.close();
  });

  it("refuses to send a request over 4 MiB, with ResourceExhausted, and keeps the connection", async () => {
    const client = createTtrpcClient(path, Echo);
    const err = await client.say({ blob: new Uint8Array(MAX_DATA_LENGTH) }).catch((e: unknown) => e);
    expect(classOf(err)).toBe("ResourceExhausted");
    expect((err as Error).message).toMatch(/exceed maximum message size of 4194304/);
    expect((await client.say({ text: "still" })).text).toBe("echo still");
    await client.close();
  });

  it("answers a response too large for a frame with ResourceExhausted", async () => {
    const client = createTtrpcClient(path, Echo);
    expect(classOf(await client.say({ text: "big" }).catch((e: unknown) => e))).toBe("ResourceExhausted");
    expect((await client.say({ text: "still" })).text).toBe("echo still");
    await client.close();
  });

  it("answers an unknown service or method with Unimplemented", async () => {
    const client = createTtrpcClient(path, shimTaskApi.Task);
    const err = await client.state({ id: "x" }).catch((e: unknown) => e);
    expect(classOf(err)).toBe("NotImplemented");
    expect((err as Error).message).toMatch(/containerd.task.v2.Task/);

    const partial = createTtrpcServer();
    partial.register(shimTaskApi.Task, { connect: async () => ({ shimPid: 1 }) });
    const partialPath = join(dir, "partial.sock");
    await partial.listen(partialPath);
    const task = createTtrpcClient(partialPath, shimTaskApi.Task);
    expect((await task.connect({ id: "x" })).shimPid).toBe(1);
    expect(classOf(await task.state({ id: "x" }).catch((e: unknown) => e))).toBe("NotImplemented");
    await task.close();
    await client.close();
    await partial.close();
  });

  it("fails every call in flight with Unavailable when the connection drops", async () => {
    const client = createTtrpcClient(path, Echo);
    const calls = [client.say({ text: "wait" }), client.say({ text: "wait" })];
    while (seen.length < 2) await sleep(5);
    await server.close();
    for (const call of calls) expect(classOf(await call.catch((e: unknown) => e))).toBe("Unavailable");
    expect(classOf(await client.connection.closed)).toBe("Unavailable");
    expect(classOf(await client.say({ text: "later" }).catch((e: unknown) => e))).toBe("Unavailable");
  });

  it("fails calls in flight with Unavailable when the client closes", async () => {
    const client = createTtrpcClient(path, Echo);
    const call = client.say({ text: "wait" });
    while (seen.length < 1) await sleep(5);
    await client.close();
    expect(classOf(await call.catch((e: unknown) => e))).toBe("Unavailable");
    // The server notices the connection ended and aborts the handler.
    if (!seen[0]!.signal.aborted) await new Promise((resolve) => seen[0]!.signal.addEventListener("abort", resolve, { once: true }));
  });

  it("reports a socket nobody listens on as Unavailable", async () => {
    const client = createTtrpcClient(join(dir, "nobody.sock"), Echo);
    const err = await client.say({ text: "x" }).catch((e: unknown) => e);
    expect(classOf(err)).toBe("Unavailable");
    expect((err as Error).message).toMatch(/ENOENT/);
  });

  it("shares one connection between clients of several services", async () => {
    server.register(shimTaskApi.Task, { state: async (req) => ({ id: req.id, pid: 9 }) });
    const connection = createTtrpcConnection(`unix://${path}`);
    const echo = createTtrpcClient(connection, Echo);
    const task = createTtrpcClient(connection, shimTaskApi.Task);
    const [a, b] = await Promise.all([echo.say({ text: "a" }), task.state({ id: "c1" })]);
    expect(a.text).toBe("echo a");
    expect(b).toMatchObject({ id: "c1", pid: 9 });
    await connection.close();
  });

  it("lets calls in flight answer on shutdown, then ends the connection", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = createTtrpcServer();
    slow.register(Echo, { say: async (req) => (await gate, { text: req.text }) });
    const slowPath = join(dir, "slow.sock");
    await slow.listen(slowPath);
    const client = createTtrpcClient(slowPath, Echo);
    const call = client.say({ text: "done" });
    await sleep(20);
    const stopping = slow.shutdown();
    release();
    expect((await call).text).toBe("done");
    await stopping;
    expect(classOf(await client.connection.closed)).toBe("Unavailable");
  });

  it("replaces a stale socket file but refuses one a live server holds", async () => {
    const stalePath = join(dir, "stale.sock");
    // A real server process that dies by SIGKILL leaves its socket file behind.
    const holder = spawn(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(stalePath)}, () => console.log("ready"))`], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await once(holder.stdout!, "data");
    const other = createTtrpcServer();
    expect(classOf(await other.listen(stalePath).catch((e: unknown) => e))).toBe("AlreadyExists");
    holder.kill("SIGKILL");
    await once(holder, "exit");
    expect((await stat(stalePath)).isSocket()).toBe(true);
    await other.listen(stalePath);
    const client = createTtrpcClient(stalePath, Echo);
    expect(classOf(await client.say({ text: "x" }).catch((e: unknown) => e))).toBe("NotImplemented");
    await client.close();
    await other.close();
  });
});
