import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { fromBinary, toBinary, create } from "@bufbuild/protobuf";
import { GrpcCode } from "@berth/core";
import { ttrpcWire } from "@berth/api";
import { createTtrpcClient, createTtrpcServer, Flag, MAX_DATA_LENGTH, MessageType, type DecodedFrame, type TtrpcServer } from "../src/index.js";
import { Echo, MsgSchema } from "./echo-service.js";
import { collect, encodeRawRequest, fromArray, rawConnect, rawListen, tempDir } from "./helpers.js";

let dir: string;
let cleanup: () => Promise<void>;
let server: TtrpcServer;
let path: string;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  path = join(dir, "p.sock");
  server = createTtrpcServer();
  server.register(Echo, {
    say: async (req) => ({ text: req.text }),
    async *count(req) {
      for (let i = 0n; i < req.n; i++) yield { n: i };
    },
    async sum(requests) {
      let n = 0n;
      for await (const r of requests) n += r.n;
      return { n };
    },
  });
  await server.listen(path);
});

afterEach(async () => {
  await server.close();
  await cleanup();
});

function statusOf(frame: DecodedFrame): { code: number; message: string } {
  if (frame.oversized || frame.type !== MessageType.Response) throw new Error(`expected a response, got ${JSON.stringify(frame)}`);
  const status = fromBinary(ttrpcWire.ResponseSchema, frame.data).status;
  return { code: status?.code ?? 0, message: status?.message ?? "" };
}

const say = (text: string) =>
  encodeRawRequest({ service: "berth.ttrpc.test.Echo", method: "Say", payload: toBinary(MsgSchema, create(MsgSchema, { text })) });

describe("the server, driven frame by frame", () => {
  it("answers a unary request with a Response frame on the same stream", async () => {
    const peer = await rawConnect(path);
    peer.send(1, MessageType.Request, 0, say("raw"));
    const frame = await peer.next();
    expect(frame).toMatchObject({ streamId: 1, type: MessageType.Response, flags: 0 });
    if (frame.oversized) throw new Error("unexpected");
    const response = fromBinary(ttrpcWire.ResponseSchema, frame.data);
    expect(response.status?.code ?? 0).toBe(0);
    expect(fromBinary(MsgSchema, response.payload).text).toBe("raw");
    peer.close();
  });

  it("rejects even stream ids and ids that do not increase, with InvalidArgument", async () => {
    const peer = await rawConnect(path);
    peer.send(2, MessageType.Request, 0, say("even"));
    expect(await peer.next()).toMatchObject({ streamId: 2 });
    peer.send(5, MessageType.Request, 0, say("five"));
    expect(statusOf(await peer.next()).code).toBe(0);
    peer.send(3, MessageType.Request, 0, say("three"));
    const reused = await peer.next();
    expect(reused.streamId).toBe(3);
    expect(statusOf(reused).code).toBe(GrpcCode.InvalidArgument);
    peer.close();
  });

  it("answers an oversized frame with ResourceExhausted on its stream and goes on serving", async () => {
    const peer = await rawConnect(path);
    peer.send(1, MessageType.Request, 0, new Uint8Array(MAX_DATA_LENGTH + 1));
    const status = statusOf(await peer.next());
    expect(status.code).toBe(GrpcCode.ResourceExhausted);
    expect(status.message).toMatch(/exceed maximum message size of 4194304/);
    peer.send(3, MessageType.Request, 0, say("after"));
    expect(statusOf(await peer.next()).code).toBe(0);
    peer.close();
  });

  it("answers data for a stream that takes none with InvalidArgument", async () => {
    const peer = await rawConnect(path);
    peer.send(7, MessageType.Data, 0, new Uint8Array([1]));
    const frame = await peer.next();
    expect(frame.streamId).toBe(7);
    expect(statusOf(frame).code).toBe(GrpcCode.InvalidArgument);
    peer.close();
  });

  it("answers an unknown service and method with Unimplemented", async () => {
    const peer = await rawConnect(path);
    peer.send(1, MessageType.Request, 0, encodeRawRequest({ service: "no.Such", method: "Thing" }));
    expect(statusOf(await peer.next()).code).toBe(GrpcCode.Unimplemented);
    peer.send(3, MessageType.Request, 0, encodeRawRequest({ service: "berth.ttrpc.test.Echo", method: "Nope" }));
    expect(statusOf(await peer.next()).code).toBe(GrpcCode.Unimplemented);
    // Echo.Chat is in the descriptor but not implemented.
    peer.send(5, MessageType.Request, Flag.RemoteOpen, encodeRawRequest({ service: "berth.ttrpc.test.Echo", method: "Chat" }));
    expect(statusOf(await peer.next()).code).toBe(GrpcCode.Unimplemented);
    peer.close();
  });

  it("ends a server stream with data frames and a bare remote-closed data frame", async () => {
    const peer = await rawConnect(path);
    const payload = toBinary(MsgSchema, create(MsgSchema, { n: 2n }));
    peer.send(1, MessageType.Request, Flag.RemoteClosed, encodeRawRequest({ service: "berth.ttrpc.test.Echo", method: "Count", payload }));
    const frames = [await peer.next(), await peer.next(), await peer.next()];
    expect(frames.map((f) => [f.streamId, f.type, f.flags])).toEqual([
      [1, MessageType.Data, 0],
      [1, MessageType.Data, 0],
      [1, MessageType.Data, Flag.RemoteClosed | Flag.NoData],
    ]);
    peer.close();
  });

  it("reads a client stream from data frames until remote-closed, with the first message allowed in the request", async () => {
    const peer = await rawConnect(path);
    const msg = (n: bigint) => toBinary(MsgSchema, create(MsgSchema, { n }));
    peer.send(1, MessageType.Request, Flag.RemoteOpen, encodeRawRequest({ service: "berth.ttrpc.test.Echo", method: "Sum", payload: msg(1n) }));
    peer.send(1, MessageType.Data, 0, msg(10n));
    peer.send(1, MessageType.Data, Flag.RemoteClosed | Flag.NoData, new Uint8Array(0));
    const frame = await peer.next();
    expect(statusOf(frame).code).toBe(0);
    if (frame.oversized) throw new Error("unexpected");
    expect(fromBinary(MsgSchema, fromBinary(ttrpcWire.ResponseSchema, frame.data).payload).n).toBe(11n);
    peer.close();
  });
});

describe("the client, seen from a raw server", () => {
  it("uses odd, increasing stream ids and the flags each method kind calls for", async () => {
    const rawPath = join(dir, "raw.sock");
    const { server: raw, accepted } = await rawListen(rawPath);
    const client = createTtrpcClient(rawPath, Echo, { timeoutMs: 5000 });
    const calls = [client.say({ text: "a" }), client.say({ text: "b" }), client.sum(fromArray([{ n: 1n }]))] as const;
    const stream = collect(client.count({ n: 1n }));
    const peer = await accepted;
    const frames: DecodedFrame[] = [];
    // Four requests, and the client stream's one message and its close.
    while (frames.length < 6) frames.push(await peer.next());
    const requests = frames.filter((f) => f.type === MessageType.Request);
    expect(requests.map((f) => f.streamId)).toEqual([1, 3, 5, 7]);
    expect(requests.map((f) => f.flags)).toEqual([0, 0, Flag.RemoteOpen, Flag.RemoteClosed]);
    const sumData = frames.filter((f) => f.type === MessageType.Data && f.streamId === 5).map((f) => f.flags);
    expect(sumData).toEqual([0, Flag.RemoteClosed | Flag.NoData]);
    const first = requests[0]!;
    if (first.oversized) throw new Error("unexpected");
    const request = fromBinary(ttrpcWire.RequestSchema, first.data);
    expect(request).toMatchObject({ service: "berth.ttrpc.test.Echo", method: "Say", timeoutNano: 5_000_000_000n });
    // Answer out of order: each call gets its own response.
    const reply = (text: string) =>
      toBinary(ttrpcWire.ResponseSchema, create(ttrpcWire.ResponseSchema, { payload: toBinary(MsgSchema, create(MsgSchema, { text })) }));
    peer.send(3, MessageType.Response, 0, reply("B"));
    peer.send(1, MessageType.Response, 0, reply("A"));
    peer.send(5, MessageType.Response, 0, reply("S"));
    peer.send(7, MessageType.Data, Flag.RemoteClosed, toBinary(MsgSchema, create(MsgSchema, { text: "last" })));
    const [a, b, s] = await Promise.all(calls);
    expect([a.text, b.text, s.text]).toEqual(["A", "B", "S"]);
    expect((await stream).map((m) => m.text)).toEqual(["last"]);
    await client.close();
    peer.close();
    raw.close();
  });

  it("fails only the call whose response frame is oversized", async () => {
    const rawPath = join(dir, "raw2.sock");
    const { server: raw, accepted } = await rawListen(rawPath);
    const client = createTtrpcClient(rawPath, Echo);
    const big = client.say({ text: "big" });
    const small = client.say({ text: "small" });
    const peer = await accepted;
    await peer.next();
    await peer.next();
    peer.send(1, MessageType.Response, 0, new Uint8Array(MAX_DATA_LENGTH + 1));
    peer.send(3, MessageType.Response, 0, toBinary(ttrpcWire.ResponseSchema, create(ttrpcWire.ResponseSchema, {})));
    expect(await big.catch((e: { errClass: string }) => e.errClass)).toBe("ResourceExhausted");
    expect((await small).text).toBe("");
    await client.close();
    peer.close();
    raw.close();
  });
});
