// Clients that send the socket path as :authority (what grpc-go does when cri-tools or the
// kubelet dial a UNIX socket by its path) against a real daemon on its real socket.
import http2 from "node:http2";
import { connect } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { fromBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { versionApi } from "@berth/api";
import { BERTH_VERSION } from "@berth/core";
import { exec, requireRoot, requireTool, startTestDaemon, type TestDaemon } from "./helpers.js";

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
    const session = http2Session(t.daemon.address);
    try {
      expect(await callVersion(session, t.daemon.address)).toEqual({ status: "0", version: BERTH_VERSION });
    } finally {
      session.close();
    }
  });

  it("a path whose Huffman form is longer (a plain literal) is answered too", async () => {
    const authority = "/{{{{{{{{}}}}}}}}/<^>/berthd.sock";
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
