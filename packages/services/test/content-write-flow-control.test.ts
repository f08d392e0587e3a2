// The HTTP/2 window berthd grants a client that writes content. containerd's clients send a
// blob as 1 MiB WriteContent messages, each awaiting its answer; if the window cannot hold a
// whole message, every message stalls on ~30 WINDOW_UPDATE round trips (`ctr content ingest`
// ran at 0.65x). Checked on the wire, with a raw HTTP/2 client on the daemon's socket.
import { connect, type ClientHttp2Session } from "node:http2";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { connect as connectSocket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MetadataPlugin, defaultServerConfig, definePlugin, silentLogger } from "@berth/core";
import { startDaemon, type Daemon } from "@berth/daemon";
import { exchangePlugin } from "@berth/events";
import { contentGrpcPlugin } from "../src/index.js";
import { MemoryMetadata } from "./fakes.js";

/** One WriteContent message as ctr sends it: 1 MiB of data plus protobuf and gRPC framing. */
const WRITE_MESSAGE = (1 << 20) + 64;

const memoryMetadata = definePlugin({ type: MetadataPlugin, id: "memory", init: () => new MemoryMetadata() });

describe("content Write over HTTP/2: flow control", () => {
  let dir: string;
  let daemon: Daemon;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-flow-"));
    const config = defaultServerConfig();
    config.root = join(dir, "root");
    config.state = join(dir, "state");
    config.grpc.address = join(dir, "berthd.sock");
    daemon = await startDaemon({ plugins: [memoryMetadata, exchangePlugin, contentGrpcPlugin], config, log: silentLogger });
  });
  afterAll(async () => {
    await daemon?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A raw HTTP/2 session on the daemon's UNIX socket, once the server's SETTINGS and window updates are in. */
  async function openSession(): Promise<ClientHttp2Session> {
    const session = connect("http://localhost", { createConnection: () => connectSocket(daemon.address) });
    await once(session, "remoteSettings");
    // The ping's answer comes after every frame the server sent before it, its WINDOW_UPDATE included.
    await new Promise<void>((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve())));
    return session;
  }

  it("a stream may carry a whole 1 MiB WriteContent message without waiting for a WINDOW_UPDATE", async () => {
    const session = await openSession();
    try {
      expect(session.remoteSettings.initialWindowSize).toBeGreaterThanOrEqual(WRITE_MESSAGE);
    } finally {
      session.close();
    }
  });

  it("so may the connection", async () => {
    const session = await openSession();
    try {
      expect(session.state.remoteWindowSize).toBeGreaterThanOrEqual(WRITE_MESSAGE);
    } finally {
      session.close();
    }
  });
});
