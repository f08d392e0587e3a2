// GrpcServer against a real gRPC client (grpc-js, over node:http2) on a real UNIX socket and on
// TCP, serving containerd's Content service with handlers written for the test: every method
// kind, status codes, metadata, cancellation, deadlines, size limits, flow control both ways,
// and shutdown.
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import * as http2 from "node:http2";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMethod } from "@bufbuild/protobuf";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { contentApi } from "@berth/api";
import { bindService, isCanceled, notFound, silentLogger, type CallContext } from "@berth/core";
import { GrpcServer, type GrpcServerOptions } from "../src/index.js";

const Content = contentApi.Content;
type ReadRequest = contentApi.ReadContentRequest;
type WriteRequest = contentApi.WriteContentRequest;

/** What the handlers saw, for the tests to check. */
interface Observed {
  aborts: unknown[];
  /** Bytes each Write call's handler has taken so far. */
  writeTaken: number;
  /** Released to let a held Write handler read on. */
  gate: Promise<void>;
}

function contentBinding(seen: Observed) {
  return bindService(Content, {
    async info(req, ctx: CallContext) {
      if (req.digest === "missing") throw notFound(`content digest ${req.digest} ünïcode 100%: not found`);
      if (req.digest === "spaces") throw notFound(" spaces at both ends ");
      return { info: { digest: req.digest, labels: { namespace: ctx.namespace ?? "", lease: ctx.metadata.get("containerd-lease")?.[0] ?? "" } } };
    },
    async *read(req: ReadRequest) {
      // `size` bytes in 1 MiB messages, each filled from its offset so order errors show.
      const chunk = 1 << 20;
      for (let offset = 0; offset < Number(req.size); offset += chunk) {
        const data = Buffer.alloc(Math.min(chunk, Number(req.size) - offset), offset / chunk);
        yield { offset: BigInt(offset), data };
      }
    },
    async *write(requests: AsyncIterable<WriteRequest>) {
      let total = 0;
      for await (const req of requests) {
        if (req.ref === "hold") await seen.gate;
        total += req.data.length;
        seen.writeTaken = total;
        yield { offset: BigInt(total) };
      }
    },
    async *list(_req, ctx: CallContext) {
      yield { info: [{ digest: "first" }] };
      // An endless stream (like Events.Subscribe): it ends when the call is aborted.
      await new Promise<void>((_, reject) => ctx.signal.addEventListener("abort", () => {
        seen.aborts.push(ctx.signal.reason);
        reject(ctx.signal.reason);
      }));
    },
    async status(_req, ctx: CallContext) {
      await new Promise<void>((_, reject) => ctx.signal.addEventListener("abort", () => {
        seen.aborts.push(ctx.signal.reason);
        reject(ctx.signal.reason);
      }));
      return {};
    },
  });
}

const path = (m: DescMethod) => `/${m.parent.typeName}/${m.name}`;
const ser = (m: DescMethod) => (msg: unknown) => Buffer.from(toBinary(m.input, create(m.input, msg as never)));
const de = (m: DescMethod) => (bytes: Buffer) => fromBinary(m.output, bytes) as never;

function unary<T>(client: grpc.Client, m: DescMethod, req: unknown, md = new grpc.Metadata(), opts: grpc.CallOptions = {}): Promise<T> {
  return new Promise((resolve, reject) => client.makeUnaryRequest(path(m), ser(m), de(m), req, md, opts, (err, res) => (err ? reject(err) : resolve(res as T))));
}

async function collect<T>(stream: AsyncIterable<unknown>): Promise<T[]> {
  const out: T[] = [];
  for await (const m of stream) out.push(m as T);
  return out;
}

let dir: string;
const servers: GrpcServer[] = [];
const clients: grpc.Client[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-grpc-"));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close(100);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function serve(opts: Partial<GrpcServerOptions> = {}) {
  let open!: () => void;
  const seen: Observed = { aborts: [], writeTaken: 0, gate: new Promise<void>((r) => (open = r)) };
  const server = new GrpcServer([contentBinding(seen)], { maxRecvMessageSize: 16 << 20, maxSendMessageSize: 16 << 20, log: silentLogger, ...opts });
  servers.push(server);
  const socket = join(dir, `g${Math.random().toString(36).slice(2)}.sock`);
  await server.listenUnix(socket);
  const client = new grpc.Client(`unix://${socket}`, grpc.credentials.createInsecure(), { "grpc.max_receive_message_length": 64 << 20 });
  clients.push(client);
  return { server, socket, client, seen, openGate: () => open() };
}

describe("unary calls", () => {
  it("the namespace and metadata reach the handler; the answer comes back", async () => {
    const { client } = await serve();
    const md = new grpc.Metadata();
    md.set("containerd-namespace", "berth-test");
    md.set("containerd-lease", "lease-1");
    const res = await unary<contentApi.InfoResponse>(client, Content.method.info, { digest: "sha256:abc" }, md);
    expect(res.info?.digest).toBe("sha256:abc");
    expect(res.info?.labels).toEqual({ namespace: "berth-test", lease: "lease-1" });
  });

  it("errors carry containerd's code and the message, non-ASCII and '%' intact", async () => {
    const { client } = await serve();
    const err = await unary(client, Content.method.info, { digest: "missing" }).catch((e: grpc.ServiceError) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
    expect((err as grpc.ServiceError).details).toBe("content digest missing ünïcode 100%: not found");
    // HTTP/2 forbids whitespace at a field's ends; nghttp2 would drop the whole message.
    const spaces = await unary(client, Content.method.info, { digest: "spaces" }).catch((e: grpc.ServiceError) => e);
    expect((spaces as grpc.ServiceError).details).toBe(" spaces at both ends ");
  });

  it("a malformed namespace is InvalidArgument before the handler runs", async () => {
    const { client } = await serve();
    const md = new grpc.Metadata();
    md.set("containerd-namespace", "Not Valid!");
    const err = await unary(client, Content.method.info, { digest: "x" }, md).catch((e: grpc.ServiceError) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it("an unknown method or service is Unimplemented, in grpc-go's words", async () => {
    const { client } = await serve();
    const call = (p: string) =>
      new Promise<grpc.ServiceError>((resolve) =>
        client.makeUnaryRequest(p, (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), (err) => resolve(err!)),
      );
    const method = await call(`/${Content.typeName}/Nope`);
    expect([method.code, method.details]).toEqual([grpc.status.UNIMPLEMENTED, `unknown method Nope for service ${Content.typeName}`]);
    const service = await call("/no.such.Service/Call");
    expect([service.code, service.details]).toEqual([grpc.status.UNIMPLEMENTED, "unknown service no.such.Service"]);
  });

  it("a message above the receive limit is ResourceExhausted", async () => {
    const { client } = await serve({ maxRecvMessageSize: 1 << 20 });
    const err = await unary(client, Content.method.info, { digest: "x".repeat(2 << 20) }).catch((e: grpc.ServiceError) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    // The connection is still good.
    expect((await unary<contentApi.InfoResponse>(client, Content.method.info, { digest: "after" })).info?.digest).toBe("after");
  });

  it("500 calls at once on one connection all get their own answer", async () => {
    const { client } = await serve();
    const answers = await Promise.all(Array.from({ length: 500 }, (_, i) => unary<contentApi.InfoResponse>(client, Content.method.info, { digest: `d${i}` })));
    expect(answers.map((a) => a.info?.digest)).toEqual(Array.from({ length: 500 }, (_, i) => `d${i}`));
  });

  it("also serves on TCP", async () => {
    const server = new GrpcServer([contentBinding({ aborts: [], writeTaken: 0, gate: Promise.resolve() })], { maxRecvMessageSize: 1 << 20, maxSendMessageSize: 1 << 20, log: silentLogger });
    servers.push(server);
    const port = await server.listenTcp("127.0.0.1:0");
    expect(port).toBeGreaterThan(0);
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    clients.push(client);
    expect((await unary<contentApi.InfoResponse>(client, Content.method.info, { digest: "tcp" })).info?.digest).toBe("tcp");
  });
});

describe("streams", () => {
  it("a 64 MiB server stream arrives whole and in order through the client's flow control", async () => {
    const { client } = await serve();
    const size = 64 << 20;
    const stream = client.makeServerStreamRequest(path(Content.method.read), ser(Content.method.read), de(Content.method.read), { size: BigInt(size) });
    const hash = createHash("sha256");
    let offset = 0;
    for await (const msg of stream as AsyncIterable<contentApi.ReadContentResponse>) {
      expect(Number(msg.offset)).toBe(offset);
      hash.update(msg.data);
      offset += msg.data.length;
    }
    const expected = createHash("sha256");
    for (let i = 0; i < 64; i++) expected.update(Buffer.alloc(1 << 20, i));
    expect(offset).toBe(size);
    expect(hash.digest("hex")).toBe(expected.digest("hex"));
  });

  it("a bidi stream takes messages larger than the stream's window and answers each", async () => {
    const { client } = await serve();
    const call = client.makeBidiStreamRequest(path(Content.method.write), ser(Content.method.write), de(Content.method.write));
    const sizes = [1 << 20, 12 << 20, 5, 1 << 20, 9 << 20];
    for (const size of sizes) call.write({ ref: "r", data: Buffer.alloc(size, 1) });
    call.end();
    const answers = await collect<contentApi.WriteContentResponse>(call);
    let total = 0;
    expect(answers.map((a) => Number(a.offset))).toEqual(sizes.map((s) => (total += s)));
  });

  it("a handler that stops reading stops the client: window is held back, not buffered without end", async () => {
    const { client, seen, openGate } = await serve();
    const call = client.makeBidiStreamRequest(path(Content.method.write), ser(Content.method.write), de(Content.method.write));
    const count = 64;
    let written = 0;
    const writes = (async () => {
      for (let i = 0; i < count; i++) {
        await new Promise<void>((resolve) => call.write({ ref: "hold", data: Buffer.alloc(1 << 20, i) }, () => resolve()));
        written++;
      }
      call.end();
    })();
    await new Promise((r) => setTimeout(r, 500));
    // The handler took nothing; the client could get no further than the windows and buffers allow.
    expect(seen.writeTaken).toBe(0);
    expect(written).toBeLessThan(24);
    openGate();
    await writes;
    const answers = await collect<contentApi.WriteContentResponse>(call);
    expect(answers.length).toBe(count);
    expect(seen.writeTaken).toBe(count << 20);
  });

  it("a client cancelling a stream aborts its handler's signal with Canceled", async () => {
    const { client, seen } = await serve();
    const stream = client.makeServerStreamRequest(path(Content.method.list), ser(Content.method.list), de(Content.method.list), {});
    stream.on("error", () => {});
    await new Promise((r) => stream.once("data", r));
    stream.cancel();
    await expect.poll(() => seen.aborts.length).toBe(1);
    expect(isCanceled(seen.aborts[0])).toBe(true);
  });

  it("a deadline that passes ends the call with DeadlineExceeded and aborts the handler", async () => {
    const { client, seen } = await serve();
    const started = Date.now();
    const err = await unary(client, Content.method.status, {}, new grpc.Metadata(), { deadline: Date.now() + 200 }).catch((e: grpc.ServiceError) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    await expect.poll(() => seen.aborts.length).toBe(1);
    expect(String(seen.aborts[0])).toMatch(/deadline/);
  });

  it("a client reset racing the deadline counts as the deadline; one well before it as a cancel", async () => {
    const { socket, seen } = await serve();
    const session = http2.connect("http://localhost", { createConnection: () => connect(socket) });
    try {
      const request = ser(Content.method.status)({});
      const resetAfter = (ms: number) => {
        const stream = session.request({
          ":method": "POST",
          ":path": path(Content.method.status),
          "content-type": "application/grpc",
          te: "trailers",
          "grpc-timeout": "300m",
        });
        stream.on("error", () => {});
        const prefix = Buffer.alloc(5);
        prefix.writeUInt32BE(request.length, 1);
        stream.end(Buffer.concat([prefix, request]));
        setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), ms);
      };
      resetAfter(30);
      await expect.poll(() => seen.aborts.length).toBe(1);
      expect(isCanceled(seen.aborts[0])).toBe(true);
      // Reset 15 ms before this side's timer would fire, as a client does when its own clock runs out.
      resetAfter(285);
      await expect.poll(() => seen.aborts.length).toBe(2);
      expect(String(seen.aborts[1])).toMatch(/deadline/);
    } finally {
      session.destroy();
    }
  });
});

describe("close", () => {
  it("aborts calls in flight (endless streams end Unavailable), says GOAWAY and stops listening", async () => {
    const { server, client, seen, socket } = await serve();
    const stream = client.makeServerStreamRequest(path(Content.method.list), ser(Content.method.list), de(Content.method.list), {});
    const ended = new Promise<grpc.ServiceError>((resolve) => stream.on("error", resolve));
    stream.on("data", () => {});
    await new Promise((r) => stream.once("data", r));
    const started = Date.now();
    await server.close(5_000);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await ended).code).toBe(grpc.status.UNAVAILABLE);
    expect(seen.aborts.length).toBe(1);
    const late = new grpc.Client(`unix://${socket}`, grpc.credentials.createInsecure());
    clients.push(late);
    const err = await unary(late, Content.method.info, { digest: "x" }, new grpc.Metadata(), { deadline: Date.now() + 1_000 }).catch((e: grpc.ServiceError) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.UNAVAILABLE);
  });
});
