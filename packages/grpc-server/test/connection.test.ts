// The HTTP/2 connection on a real UNIX socket, driven by a hand-written client (every HPACK
// representation, CONTINUATION, padding, priority, broken peers) and by Node's own nghttp2
// client; what the server decoded is checked field by field.
import http2 from "node:http2";
import { connect, createServer, type Server } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Http2ServerConnection } from "../src/connection.js";
import { Flags, FrameType, encodeFrame } from "../src/frames.js";
import type { HeaderField } from "../src/hpack.js";
import { EncoderTable, hpack, requestStart, RawHttp2Client } from "./raw-http2.js";

interface TestServer {
  socket: string;
  /** Request headers as the server decoded them, in arrival order, as objects. */
  seen: Record<string, string>[];
  connections: Http2ServerConnection[];
  close(): Promise<void>;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-h2-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const open: TestServer[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

/** A server whose every stream is answered `:status 200` with no body, its headers recorded. */
async function startServer(): Promise<TestServer> {
  const socket = join(dir, `s${open.length}-${Math.random().toString(36).slice(2)}.sock`);
  const seen: Record<string, string>[] = [];
  const connections: Http2ServerConnection[] = [];
  const server: Server = createServer((s) => {
    connections.push(
      new Http2ServerConnection(s, {
        streamWindow: 65_535,
        connectionWindow: 1 << 20,
        maxConcurrentStreams: 100,
        maxHeaderListSize: 1 << 20,
        onStream(stream) {
          seen.push(Object.fromEntries(stream.headers));
          stream.listener = { data() {}, end() {}, abort() {} };
          stream.sendHeaders([[":status", "200"]], true);
        },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  const t: TestServer = {
    socket,
    seen,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.destroy();
        server.close(() => resolve());
      }),
  };
  open.push(t);
  return t;
}

/** Requests from Node's own client (nghttp2's encoder: Huffman where shorter, indexing). */
async function nodeRequests(socket: string, authority: string, count = 1): Promise<(number | string)[]> {
  const session = http2.connect("http://localhost", { createConnection: () => connect(socket) });
  session.on("error", () => {});
  const statuses: (number | string)[] = [];
  for (let i = 0; i < count; i++) {
    statuses.push(
      await new Promise<number | string>((resolve) => {
        const req = session.request({ ":path": `/call/${i}`, ":authority": authority, "x-seq": String(i) });
        req.on("response", (h) => resolve(Number(h[":status"])));
        req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
        req.resume();
        req.end();
      }),
    );
  }
  session.close();
  return statuses;
}

describe("requests from nghttp2's client", () => {
  it("any :authority is taken, a socket path included (which nghttp2's server refuses)", async () => {
    const t = await startServer();
    expect(await nodeRequests(t.socket, "/run/containerd/containerd.sock", 50)).toEqual(Array(50).fill(200));
    expect(t.seen.map((h) => [h[":authority"], h["x-seq"]])).toEqual(Array.from({ length: 50 }, (_, i) => ["/run/containerd/containerd.sock", String(i)]));
  });
});

describe("header blocks, representation by representation (RFC 7541 §6)", () => {
  const path = "/run/containerd/containerd.sock";

  it("plain and Huffman literals, each indexing mode, literal and dynamic names, indexed references", async () => {
    const t = await startServer();
    const client = await RawHttp2Client.open(t.socket);
    const cases: [string, Buffer, string][] = [
      ["plain incremental", hpack.literal(1, path), path],
      ["huffman incremental", hpack.literal(1, path, { huffman: true }), path],
      ["plain without indexing", hpack.literal(1, path, { mode: "without" }), path],
      ["huffman never indexed", hpack.literal(1, path, { mode: "never", huffman: true }), path],
      ["literal name, plain", hpack.literalName(":authority", path), path],
      ["literal name, huffman", hpack.literalName(":authority", path, { huffman: true }), path],
      // Dynamic index 62 is the newest entry: the :authority the literal-name case just added.
      ["indexed dynamic entry", hpack.indexed(62), path],
      ["dynamic name, new value", hpack.literal(62, "/other/path.sock", { huffman: true }), "/other/path.sock"],
    ];
    for (const [name, field] of cases) {
      const outcome = await client.request(Buffer.concat([requestStart(`/${name.replaceAll(" ", "-")}`), field]));
      expect(outcome.kind, name).toBe("response");
      expect(outcome.headers, name).toEqual([[":status", "200"]]);
    }
    expect(t.seen.map((h) => [h[":method"], h[":path"], h[":authority"]])).toEqual(
      cases.map(([name, , authority]) => ["POST", `/${name.replaceAll(" ", "-")}`, authority]),
    );
    expect(client.goaway).toBeUndefined();
    client.close();
  });

  it("CONTINUATION frames, padding and priority", async () => {
    const t = await startServer();
    const client = await RawHttp2Client.open(t.socket);
    const big = "/" + "d".repeat(40_000) + "/x.sock"; // several frames' worth
    const blocks: [Buffer, Parameters<RawHttp2Client["request"]>[1]][] = [
      [Buffer.concat([requestStart("/split"), hpack.literal(1, path, { huffman: true })]), { split: 3 }],
      [Buffer.concat([requestStart("/padded"), hpack.literal(1, path)]), { padded: 7, priority: true }],
      [Buffer.concat([requestStart("/big"), hpack.literal(1, big, { mode: "without", huffman: true })]), { split: 10_000, padded: 0 }],
    ];
    for (const [block, opts] of blocks) expect((await client.request(block, opts)).kind).toBe("response");
    expect(t.seen.map((h) => h[":authority"])).toEqual([path, path, big]);
    client.close();
  });

  it("hundreds of requests with churning headers keep the dynamic table in step", async () => {
    const t = await startServer();
    const client = await RawHttp2Client.open(t.socket);
    const table = new EncoderTable();
    const expected: { authority: string; timeout: string; note: string }[] = [];
    let literals = 0;
    let references = 0;
    for (let i = 0; i < 300; i++) {
      const fields = [requestStart(`/churn/${i}`)];
      // Shrinking the table evicts everything, the :authority included; it then comes back as a literal.
      const resize = i === 100 ? 256 : i === 200 ? 4096 : undefined;
      if (resize !== undefined) {
        fields.unshift(hpack.sizeUpdate(resize));
        table.resize(resize);
      }
      const index = table.find(":authority", path);
      if (index !== undefined && i % 5 !== 0) {
        fields.push(hpack.indexed(index));
        references++;
      } else {
        fields.push(hpack.literal(1, path, { huffman: i % 3 === 0 }));
        table.add(":authority", path);
        literals++;
      }
      // A new grpc-timeout every call, as grpc-go sends, and notes of changing length churn the table.
      const timeout = `${99_000 + i}m`;
      const note = "n".repeat((i * 37) % 180);
      fields.push(hpack.literalName("grpc-timeout", timeout, { huffman: i % 2 === 0 }));
      table.add("grpc-timeout", timeout);
      fields.push(hpack.literalName("x-note", note));
      table.add("x-note", note);
      const outcome = await client.request(Buffer.concat(fields));
      expect(outcome.kind, `request ${i}`).toBe("response");
      expected.push({ authority: path, timeout, note });
    }
    const got = t.seen.map((h) => ({ authority: h[":authority"], timeout: h["grpc-timeout"], note: h["x-note"] ?? "" }));
    expect(got).toEqual(expected);
    expect(literals).toBeGreaterThan(60);
    expect(references).toBeGreaterThan(100);
    client.close();
  });

  it("a request sent a byte at a time is read as it comes", async () => {
    const t = await startServer();
    const client = await RawHttp2Client.open(t.socket, { drip: true });
    const outcome = await client.request(Buffer.concat([requestStart("/drip"), hpack.literal(1, path, { huffman: true })]), { split: 7 });
    expect(outcome.kind).toBe("response");
    expect(t.seen).toEqual([{ ":method": "POST", ":scheme": "http", ":path": "/drip", ":authority": path }]);
    client.close();
  });
});

describe("peers that break the protocol get GOAWAY and a closed socket; the server keeps serving", () => {
  async function expectGoaway(client: RawHttp2Client, code: number): Promise<void> {
    if (!client.closed) await new Promise((r) => client.socket.once("close", r));
    expect(client.goaway?.code).toBe(code);
  }

  it("broken HPACK: COMPRESSION_ERROR", async () => {
    const t = await startServer();
    const client = await RawHttp2Client.open(t.socket);
    const outcome = await client.request(Buffer.concat([requestStart("/bad"), hpack.indexed(200)]));
    expect(outcome.kind).toBe("reset");
    await expectGoaway(client, 9);
    expect(await nodeRequests(t.socket, "localhost")).toEqual([200]);
  });

  it("PUSH_PROMISE from a client, DATA on an idle stream, a stream id going backwards: PROTOCOL_ERROR", async () => {
    const t = await startServer();
    const frames = [
      encodeFrame(FrameType.PUSH_PROMISE, Flags.END_HEADERS, 1, Buffer.alloc(4)),
      encodeFrame(FrameType.DATA, 0, 7, Buffer.from("x")),
    ];
    for (const frame of frames) {
      const client = await RawHttp2Client.open(t.socket);
      await client.sendRaw(frame);
      await expectGoaway(client, 1);
    }
    const client = await RawHttp2Client.open(t.socket);
    client.nextStreamId = 5;
    expect((await client.request(requestStart("/five"))).kind).toBe("response");
    client.nextStreamId = 3;
    await client.request(requestStart("/three"));
    await expectGoaway(client, 1);
    expect(t.seen.map((h) => h[":path"])).toEqual(["/five"]);
  });

  it("trailers and DATA still arriving on a stream answered (and reset) early are ignored, not a connection error", async () => {
    const t = await startServer();
    const client = await RawHttp2Client.open(t.socket);
    // The server answers at once; the client has not ended its side, so it is told to stop (RST_STREAM NO_ERROR).
    const first = await client.request(requestStart("/early"), { endStream: false });
    expect(first.kind).toBe("response");
    await client.sendRaw(encodeFrame(FrameType.DATA, 0, first.streamId, Buffer.from("late")));
    await client.sendRaw(encodeFrame(FrameType.HEADERS, Flags.END_HEADERS | Flags.END_STREAM, first.streamId, hpack.literalName("x-trailer", "1")));
    expect((await client.request(requestStart("/after"))).kind).toBe("response");
    expect(client.goaway).toBeUndefined();
    expect(t.seen.map((h) => h[":path"])).toEqual(["/early", "/after"]);
    client.close();
  });

  it("a frame larger than SETTINGS_MAX_FRAME_SIZE: FRAME_SIZE_ERROR", async () => {
    const t = await startServer();
    const client = await RawHttp2Client.open(t.socket);
    await client.sendRaw(encodeFrame(FrameType.DATA, 0, 1, Buffer.alloc(16_385)));
    await expectGoaway(client, 6);
  });

  it("HTTP/1.1 and garbage: the connection is closed", async () => {
    const t = await startServer();
    for (const bytes of [Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\xff\xff\xff\x01\x00\x00\x00\x00\x01", "latin1")]) {
      const socket = connect(t.socket);
      socket.on("error", () => {});
      socket.resume();
      socket.write(bytes);
      await new Promise((r) => socket.once("close", r));
    }
    expect(await nodeRequests(t.socket, "localhost")).toEqual([200]);
  });

  it("PING is answered with the same payload", async () => {
    const t = await startServer();
    const session = http2.connect("http://localhost", { createConnection: () => connect(t.socket) });
    await new Promise((r) => session.once("connect", r));
    const payload = Buffer.from("berth-h2");
    const echoed = await new Promise<Buffer>((resolve, reject) => session.ping(payload, (err, _ms, p) => (err ? reject(err) : resolve(p))));
    expect(echoed.equals(payload)).toBe(true);
    session.close();
  });
});

describe("flow control of what the server sends", () => {
  it("DATA beyond the client's 16 KiB window waits for its WINDOW_UPDATEs: a slow reader gets every byte, then the trailers", async () => {
    const socket = join(dir, "flow.sock");
    const body = Buffer.alloc(300_000, 7);
    const server = createServer((s) => {
      new Http2ServerConnection(s, {
        streamWindow: 65_535,
        connectionWindow: 65_535,
        maxConcurrentStreams: 10,
        maxHeaderListSize: 1 << 16,
        onStream(stream) {
          stream.listener = { data() {}, end() {}, abort() {} };
          const fields: HeaderField[] = [[":status", "200"]];
          stream.sendHeaders(fields, false);
          stream.sendData(body);
          stream.sendHeaders([["x-done", "1"]], true);
        },
      });
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      // A client with a 16 KiB window: the server must stop and wait for each update.
      const session = http2.connect("http://localhost", { createConnection: () => connect(socket), settings: { initialWindowSize: 16_384 } });
      const req = session.request({ ":path": "/big", ":method": "POST" });
      req.end();
      const chunks: Buffer[] = [];
      let trailers: http2.IncomingHttpHeaders | undefined;
      req.on("trailers", (h) => (trailers = h));
      for await (const chunk of req) {
        chunks.push(chunk as Buffer);
        await new Promise((r) => setTimeout(r, 1)); // a slow reader
      }
      expect(Buffer.concat(chunks).equals(body)).toBe(true);
      expect(trailers?.["x-done"]).toBe("1");
      session.close();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
