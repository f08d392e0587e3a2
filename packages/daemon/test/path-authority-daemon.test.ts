// Clients that send the socket path as :authority (what grpc-go does when cri-tools or the
// kubelet dial a UNIX socket by its path) against a real daemon on its real socket, and the
// route every kind of client takes through the gRPC server's connection router.
import http2 from "node:http2";
import { connect } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { fromBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { versionApi } from "@berth/api";
import { BERTH_VERSION, bindService, silentLogger } from "@berth/core";
import { createClient } from "@berth/client";
import { createGrpcServer } from "../src/server/grpc-server.js";
import type { ConnectionRoute } from "../src/server/path-authority.js";
import { huffmanEncodedLength } from "../src/server/hpack-huffman.js";
import { createGrpcMetrics } from "../src/metrics/grpc-metrics.js";
import { MetricsRegistry } from "../src/metrics/registry.js";
import { exec, requireRoot, requireTool, startTestDaemon, tempDir, type TestDaemon } from "./helpers.js";

const VERSION_METHOD = "/containerd.services.version.v1.Version/Version";

interface GrpcReply {
  status: string | undefined;
  version: string | undefined;
  error?: string;
}

/** A Version call made with node:http2 itself, so the test chooses :authority freely. */
function callVersion(session: http2.ClientHttp2Session, authority: string): Promise<GrpcReply> {
  return new Promise((resolve) => {
    const req = session.request({
      ":method": "POST",
      ":path": VERSION_METHOD,
      ":authority": authority,
      "content-type": "application/grpc",
      te: "trailers",
    });
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("trailers", (trailers) => {
      const body = Buffer.concat(chunks);
      const message = body.length >= 5 ? fromBinary(versionApi.VersionResponseSchema, body.subarray(5)) : undefined;
      resolve({ status: String(trailers["grpc-status"]), version: message?.version });
    });
    req.on("error", (e: NodeJS.ErrnoException) => resolve({ status: undefined, version: undefined, error: e.code ?? e.message }));
    req.end(Buffer.from([0, 0, 0, 0, 0])); // one empty, uncompressed gRPC message
  });
}

function http2Session(socket: string): http2.ClientHttp2Session {
  const session = http2.connect("http://localhost", { createConnection: () => connect(socket) });
  session.on("error", () => {});
  return session;
}

/** A grpc-js client whose HTTP/2 requests carry `authority`, like grpc-go dialling a path. */
function grpcClientWithAuthority(socket: string, authority: string): grpc.Client {
  return new grpc.Client(`unix://${socket}`, grpc.credentials.createInsecure(), { "grpc.default_authority": authority });
}

function grpcVersion(client: grpc.Client, deadlineMs: number): Promise<string> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      VERSION_METHOD,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      new grpc.Metadata(),
      { deadline: Date.now() + deadlineMs },
      (err, reply) => (err ? reject(err) : resolve(fromBinary(versionApi.VersionResponseSchema, reply!).version)),
    ),
  );
}

describe("berthd with clients that send the socket path as :authority", () => {
  let t: TestDaemon;
  beforeAll(async () => {
    requireRoot();
    t = await startTestDaemon();
  });
  afterAll(() => t?.dispose());

  it("a Version call with :authority = the socket path (Huffman-coded by nghttp2) is answered", async () => {
    expect(huffmanEncodedLength(Buffer.from(t.daemon.address))).toBeLessThan(t.daemon.address.length);
    const session = http2Session(t.daemon.address);
    try {
      expect(await callVersion(session, t.daemon.address)).toEqual({ status: "0", version: BERTH_VERSION });
    } finally {
      session.close();
    }
  });

  it("a path whose Huffman form is longer goes as a plain literal and is answered too", async () => {
    const authority = "/{{{{{{{{}}}}}}}}/<^>/berthd.sock";
    expect(huffmanEncodedLength(Buffer.from(authority))).toBeGreaterThanOrEqual(authority.length);
    const session = http2Session(t.daemon.address);
    try {
      expect(await callVersion(session, authority)).toEqual({ status: "0", version: BERTH_VERSION });
    } finally {
      session.close();
    }
  });

  it("hundreds of grpc-js calls on one connection, each with a new grpc-timeout, all succeed", async () => {
    const client = grpcClientWithAuthority(t.daemon.address, t.daemon.address);
    try {
      for (let i = 0; i < 300; i++) expect(await grpcVersion(client, 20_000 + i * 13)).toBe(BERTH_VERSION);
    } finally {
      client.close();
    }
  });

  it("ordinary clients are unaffected: Berth's client and ctr", async () => {
    await requireTool("ctr", "containerd");
    expect((await t.client.version()).version).toBe(BERTH_VERSION);
    const { stdout } = await exec("ctr", ["-a", t.daemon.address, "version"]);
    expect(stdout).toContain(`Version:  ${BERTH_VERSION}`);
  });

  it("garbage and half-open peers leave it serving path-authority clients", async () => {
    for (const bytes of ["GET / HTTP/1.1\r\n\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\xff\xff\xff\xff\xff\xff\xff\xff\xff", "PRI * HTT"]) {
      const socket = connect(t.daemon.address);
      socket.on("error", () => {});
      socket.resume();
      socket.end(Buffer.from(bytes, "latin1"));
      await new Promise((r) => socket.once("close", r));
    }
    const session = http2Session(t.daemon.address);
    try {
      expect(await callVersion(session, t.daemon.address)).toEqual({ status: "0", version: BERTH_VERSION });
    } finally {
      session.close();
    }
  });
});

describe("the gRPC server routes each connection by its first :authority", () => {
  it("Berth's client and ctr (localhost) stay native; a path authority is rewritten", async () => {
    requireRoot();
    await requireTool("ctr", "containerd");
    const dir = await tempDir();
    const routes: ConnectionRoute[] = [];
    const shutdown = new AbortController();
    const server = createGrpcServer([bindService(versionApi.Version, { version: async () => ({ version: "v-test", revision: "r" }) })], {
      maxRecvMessageSize: 16 << 20,
      maxSendMessageSize: 16 << 20,
      log: silentLogger,
      metrics: createGrpcMetrics(new MetricsRegistry(), false),
      shutdown: shutdown.signal,
      onConnectionRouted: (r) => routes.push(r),
    });
    const socket = `${dir.path}/grpc.sock`;
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
    try {
      const berth = createClient({ address: socket, timeoutMs: 5_000 });
      expect((await berth.version()).version).toBe("v-test");
      berth.close();
      // ctr version also asks Introspection for the UUID, which this server lacks; the
      // Version answer is what matters here.
      const ctr = await exec("ctr", ["-a", socket, "version"]).catch((e: { stdout: string }) => e);
      expect(ctr.stdout).toContain("Version:  v-test");
      const pathClient = grpcClientWithAuthority(socket, socket);
      expect(await grpcVersion(pathClient, 5_000)).toBe("v-test");
      pathClient.close();
      expect(routes.map((r) => `${r.kind}:${r.reason}`)).toEqual(["native:valid-authority", "native:valid-authority", "rewrite:invalid-authority"]);
    } finally {
      shutdown.abort();
      server.forceShutdown();
      await dir.remove();
    }
  });
});
