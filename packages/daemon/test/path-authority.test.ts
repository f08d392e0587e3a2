// The connection router of path-authority.ts in front of a real node:http2 server on a real
// UNIX socket: which connections stay native, and that nghttp2 accepts every rewritten request
// with both HPACK tables in step (checked by what the server decodes).
import http2, { type Http2Server, type ServerHttp2Session } from "node:http2";
import { connect } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { routeConnectionsByAuthority, type ConnectionRoute, type PathAuthorityOptions } from "../src/server/path-authority.js";
import { EncoderTable, hpack, requestStart, RawHttp2Client } from "./raw-http2.js";

interface TestServer {
  socket: string;
  routes: ConnectionRoute[];
  /** Request headers as the server's handler saw them, in arrival order. */
  seen: http2.IncomingHttpHeaders[];
  sessions: ServerHttp2Session[];
  close(): Promise<void>;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-authority-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const open: TestServer[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function startServer(opts: PathAuthorityOptions & { route?: boolean } = {}): Promise<TestServer> {
  const socket = join(dir, `s${open.length}-${Math.random().toString(36).slice(2)}.sock`);
  const server: Http2Server = http2.createServer();
  const routes: ConnectionRoute[] = [];
  const seen: http2.IncomingHttpHeaders[] = [];
  const sessions: ServerHttp2Session[] = [];
  if (opts.route !== false) routeConnectionsByAuthority(server, { ...opts, onRoute: (r) => routes.push(r) });
  server.on("session", (s) => sessions.push(s));
  server.on("stream", (stream, headers) => {
    seen.push(headers);
    stream.respond({ ":status": 200 });
    stream.end("ok");
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  const t: TestServer = {
    socket,
    routes,
    seen,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
  open.push(t);
  return t;
}

/** One request from Node's own client (nghttp2's encoder: Huffman where shorter, indexing). */
async function nodeRequest(socket: string, authority: string, count = 1): Promise<{ statuses: (number | string)[]; session: http2.ClientHttp2Session }> {
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
  return { statuses, session };
}

describe("the problem, without the router", () => {
  it("nghttp2 resets a request whose :authority is a socket path", async () => {
    const t = await startServer({ route: false });
    const { statuses, session } = await nodeRequest(t.socket, "/run/berth/berthd.sock");
    session.close();
    expect(statuses).toEqual(["ERR_HTTP2_STREAM_ERROR"]);
    expect(t.seen).toHaveLength(0);
  });
});

describe("routing connections by the first request's :authority", () => {
  it("a socket-path :authority is served through the rewriting stream, every byte not allowed becoming '_'", async () => {
    const t = await startServer();
    const { statuses, session } = await nodeRequest(t.socket, "/run/berth/berthd.sock", 3);
    session.close();
    expect(statuses).toEqual([200, 200, 200]);
    expect(t.seen.map((h) => h[":authority"])).toEqual(Array(3).fill("_run_berth_berthd.sock"));
    expect(t.routes.map((r) => [r.kind, r.reason])).toEqual([["rewrite", "invalid-authority"]]);
  });

  it("localhost stays on the native socket (the session's handle is the pipe itself, not a JS stream)", async () => {
    const t = await startServer();
    const { statuses, session } = await nodeRequest(t.socket, "localhost", 3);
    expect(statuses).toEqual([200, 200, 200]);
    expect(t.routes.map((r) => [r.kind, r.reason])).toEqual([["native", "valid-authority"]]);
    const handle = (t.sessions[0]!.socket as unknown as { _handle: object })._handle;
    expect(handle.constructor.name).toBe("Pipe");
    session.close();
  });

  it("bytes read before routing reach nghttp2: requests sent before the SETTINGS ACK are all answered", async () => {
    const t = await startServer();
    const client = await RawHttp2Client.open(t.socket);
    // Three requests go out with the preface, before the client has even seen our SETTINGS.
    const block = (i: number) => Buffer.concat([requestStart(`/early/${i}`), hpack.literal(1, "localhost")]);
    const outcomes = await Promise.all([client.request(block(0)), client.request(block(1)), client.request(block(2))]);
    expect(outcomes.map((o) => o.kind)).toEqual(["response", "response", "response"]);
    expect(t.routes.map((r) => r.kind)).toEqual(["native"]);
    expect(t.seen.map((h) => h[":path"])).toEqual(["/early/0", "/early/1", "/early/2"]);
    expect(client.goaway).toBeUndefined();
    client.close();
  });
});

describe("a preface sent a byte at a time", () => {
  it("is read as it comes and routed like any other", async () => {
    const t = await startServer();
    for (const authority of ["localhost", "/run/drip.sock"]) {
      const client = await RawHttp2Client.open(t.socket, { drip: true });
      const outcome = await client.request(Buffer.concat([requestStart("/drip"), hpack.literal(1, authority, { huffman: true })]));
      expect(outcome.kind).toBe("response");
      client.close();
    }
    expect(t.routes.map((r) => r.kind)).toEqual(["native", "rewrite"]);
    expect(t.seen.map((h) => h[":authority"])).toEqual(["localhost", "_run_drip.sock"]);
  });
});

describe("rewriting, representation by representation (RFC 7541 §6)", () => {
  const path = "/run/containerd/containerd.sock";
  const fixed = "_run_containerd_containerd.sock";

  async function rewritingClient(t: TestServer): Promise<RawHttp2Client> {
    const client = await RawHttp2Client.open(t.socket);
    // The first request decides the route: a plain literal socket path, added to the table.
    const first = await client.request(Buffer.concat([requestStart("/first"), hpack.literal(1, path)]));
    expect(first.kind).toBe("response");
    expect(t.routes.map((r) => r.kind)).toEqual(["rewrite"]);
    return client;
  }

  it("plain and Huffman literals, each indexing mode, literal and dynamic names, indexed references", async () => {
    const t = await startServer();
    const client = await rewritingClient(t);
    const cases: [string, Buffer][] = [
      ["huffman incremental", hpack.literal(1, path, { huffman: true })],
      ["plain without indexing", hpack.literal(1, path, { mode: "without" })],
      ["huffman never indexed", hpack.literal(1, path, { mode: "never", huffman: true })],
      ["literal name, plain", hpack.literalName(":authority", path)],
      ["literal name, huffman", hpack.literalName(":authority", path, { huffman: true })],
      // Dynamic index 62 is the newest entry: the :authority just added (rewritten) above.
      ["indexed dynamic entry", hpack.indexed(62)],
      ["dynamic name, new value", hpack.literal(62, "/other/path.sock", { huffman: true })],
    ];
    for (const [name, field] of cases) {
      const outcome = await client.request(Buffer.concat([requestStart(`/${name.replaceAll(" ", "-")}`), field]));
      expect(outcome, name).toEqual({ streamId: outcome.streamId, kind: "response" });
    }
    expect(t.seen.map((h) => h[":authority"])).toEqual([fixed, fixed, fixed, fixed, fixed, fixed, fixed, "_other_path.sock"]);
    expect(client.goaway).toBeUndefined();
    client.close();
  });

  it("CONTINUATION frames, padding and priority, re-framed by the rewriter", async () => {
    const t = await startServer();
    const client = await rewritingClient(t);
    const big = "/" + "d".repeat(40_000) + "/x.sock"; // larger than one frame once rewritten
    const blocks: [Buffer, Parameters<RawHttp2Client["request"]>[1]][] = [
      [Buffer.concat([requestStart("/split"), hpack.literal(1, path, { huffman: true })]), { split: 3 }],
      [Buffer.concat([requestStart("/padded"), hpack.literal(1, path)]), { padded: 7, priority: true }],
      [Buffer.concat([requestStart("/big"), hpack.literal(1, big, { mode: "without", huffman: true })]), { split: 10_000, padded: 0 }],
    ];
    for (const [block, opts] of blocks) expect((await client.request(block, opts)).kind).toBe("response");
    expect(t.seen.slice(1).map((h) => h[":authority"])).toEqual([fixed, fixed, big.replaceAll("/", "_")]);
    client.close();
  });

  it("hundreds of requests with churning headers keep both dynamic tables in step", async () => {
    const t = await startServer();
    const client = await rewritingClient(t);
    const table = new EncoderTable();
    table.add(":authority", path); // what the first request added
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
      // Pseudo-header fields come first (RFC 9113 §8.3), so the authority precedes the rest.
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
      expected.push({ authority: fixed, timeout, note });
    }
    const got = t.seen.slice(1).map((h) => ({ authority: h[":authority"], timeout: h["grpc-timeout"], note: h["x-note"] ?? "" }));
    expect(got).toEqual(expected);
    expect(literals).toBeGreaterThan(60);
    expect(references).toBeGreaterThan(100);
    client.close();
  });

  it("a client breaking HPACK is left to nghttp2, which closes the connection", async () => {
    const t = await startServer();
    const client = await rewritingClient(t);
    const outcome = await client.request(Buffer.concat([requestStart("/bad"), hpack.indexed(200)]));
    expect(outcome.kind).toBe("reset");
    if (!client.closed) await new Promise((r) => client.socket.once("close", r));
    expect(client.goaway?.code).toBe(9); // COMPRESSION_ERROR
  });
});

describe("peers that are not ordinary gRPC clients", () => {
  it("HTTP/1.1 and garbage go to nghttp2 as they came, and the server keeps serving", async () => {
    const t = await startServer();
    for (const bytes of [Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x01\x00\x00\x00\x00\x01", "latin1")]) {
      const socket = connect(t.socket);
      socket.on("error", () => {});
      socket.resume(); // read nghttp2's GOAWAY, so the close is seen
      socket.write(bytes);
      await new Promise((r) => socket.once("close", r));
    }
    expect(t.routes.map((r) => [r.kind, r.reason])).toEqual([["native", "not-http2"], ["native", "not-http2"]]);
    const { statuses, session } = await nodeRequest(t.socket, "/still/serving.sock");
    session.close();
    expect(statuses).toEqual([200]);
  });

  it("a silent peer is handed over as it is after the timeout; one that leaves early is forgotten", async () => {
    const t = await startServer({ prefaceTimeoutMs: 100 });
    const silent = connect(t.socket);
    silent.on("error", () => {});
    const early = connect(t.socket);
    early.on("error", () => {});
    early.end("PRI * HTTP/2.0\r\n");
    // nghttp2 sends its SETTINGS once it has the socket: the sign of the hand-over.
    const first = await new Promise<Buffer>((r) => silent.once("data", r));
    expect(first.subarray(0, 9).toString("hex")).toMatch(/^[0-9a-f]{6}04000{8}$/); // SETTINGS, stream 0
    expect(t.routes.map((r) => [r.kind, r.reason])).toEqual([["native", "silent"]]);
    silent.destroy();
  });

  it("an HTTP/2 client slow to make its first request is served through the rewriting stream", async () => {
    const t = await startServer({ prefaceTimeoutMs: 100 });
    const client = await RawHttp2Client.open(t.socket);
    await new Promise((r) => setTimeout(r, 300));
    expect(t.routes.map((r) => [r.kind, r.reason])).toEqual([["rewrite", "slow-preface"]]);
    const a = await client.request(Buffer.concat([requestStart("/late"), hpack.literal(1, "/late.sock")]));
    const b = await client.request(Buffer.concat([requestStart("/late"), hpack.literal(1, "localhost")]));
    expect([a.kind, b.kind]).toEqual(["response", "response"]);
    expect(t.seen.map((h) => h[":authority"])).toEqual(["_late.sock", "localhost"]);
    client.close();
  });

  it("a first request larger than the hold limit is served through the rewriting stream", async () => {
    const t = await startServer({ maxPrefaceBytes: 1024 });
    const client = await RawHttp2Client.open(t.socket);
    const block = Buffer.concat([requestStart("/large"), hpack.literal(1, "localhost"), hpack.literalName("x-large", "v".repeat(4000))]);
    expect((await client.request(block, { split: 500 })).kind).toBe("response");
    expect(t.routes.map((r) => [r.kind, r.reason])).toEqual([["rewrite", "preface-too-large"]]);
    client.close();
  });
});
