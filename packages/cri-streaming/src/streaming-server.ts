import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { invalidArgument, silentLogger, type Logger } from "@berth/core";
import { rejectUpgrade } from "./http-response.js";
import {
  negotiateStreamProtocol, PORT_FORWARD_SPDY_PROTOCOL, PORT_FORWARD_WS_PROTOCOLS, REMOTE_COMMAND_SPDY_PROTOCOLS,
  REMOTE_COMMAND_WS_PROTOCOLS,
} from "./protocols.js";
import { parsePort, serveSpdyPortForward } from "./portforward/spdy-port-forward.js";
import { serveWebSocketPortForward } from "./portforward/websocket-port-forward.js";
import type { RemoteCommandSession, RequestedStreams } from "./remotecommand/remote-command-session.js";
import { runRemoteCommand, type RemoteCommand } from "./remotecommand/run-remote-command.js";
import { acceptSpdyRemoteCommand } from "./remotecommand/spdy-remote-command.js";
import { acceptWebSocketRemoteCommand } from "./remotecommand/websocket-remote-command.js";
import { RequestCache } from "./request-cache.js";
import type { AttachRequest, ExecRequest, PortForwardRequest, StreamingHandlers } from "./types.js";
import { isWebSocketRequest, negotiateWebSocket } from "./websocket/handshake.js";

export interface StreamingServerOptions {
  /** Address to listen on; loopback by default, as the kubelet's streaming server should be. */
  address?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  handlers: StreamingHandlers;
  /** How long a URL stays usable (default 60 s, the kubelet's). */
  tokenTtlMs?: number;
  /** Outstanding URLs at most (default 1000). */
  maxInFlight?: number;
  /** Close a session after this long without traffic (default 4 h, the kubelet's; 0 = never). */
  streamIdleTimeoutMs?: number;
  /** How long a SPDY client may take to open its streams (default 30 s). */
  streamCreationTimeoutMs?: number;
  logger?: Logger;
  /** Clock for token expiry; tests pass their own. */
  now?: () => number;
}

export interface StreamingServer {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  readonly url: string;
  readonly port: number;
  /** Caches the request and returns the single-use URL the client upgrades (CRI ExecResponse.url). */
  getExecUrl(req: ExecRequest): string;
  getAttachUrl(req: AttachRequest): string;
  getPortForwardUrl(req: PortForwardRequest): string;
  /** Stops listening and cuts every session. */
  close(): Promise<void>;
}

type CachedRequest =
  | { kind: "exec"; request: ExecRequest }
  | { kind: "attach"; request: AttachRequest }
  | { kind: "portforward"; request: PortForwardRequest };

const ROUTE = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)$/;

function validateStreams(what: string, req: { containerId: string; tty?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean }): void {
  if (!req.containerId) throw invalidArgument(`${what}: missing required container_id`);
  if (req.tty && req.stderr) throw invalidArgument(`${what}: tty and stderr cannot both be true`);
  if (!req.stdin && !req.stdout && !req.stderr) throw invalidArgument(`${what}: one of stdin, stdout, or stderr must be set`);
}

function requestedStreams(req: ExecRequest | AttachRequest): RequestedStreams {
  return { stdin: !!req.stdin, stdout: !!req.stdout, stderr: !!req.stderr, tty: !!req.tty };
}

/** Starts the kubelet-style streaming server for CRI Exec, Attach and PortForward. */
export async function createStreamingServer(opts: StreamingServerOptions): Promise<StreamingServer> {
  const log = opts.logger ?? silentLogger;
  const cache = new RequestCache<CachedRequest>({
    ...(opts.tokenTtlMs !== undefined ? { ttlMs: opts.tokenTtlMs } : {}),
    ...(opts.maxInFlight !== undefined ? { maxInFlight: opts.maxInFlight } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  const idleTimeoutMs = opts.streamIdleTimeoutMs ?? 4 * 60 * 60 * 1000;
  const streamCreationTimeoutMs = opts.streamCreationTimeoutMs ?? 30_000;
  const sockets = new Set<Duplex>();
  const sessions = new Set<Promise<void>>();

  const server: Server = createServer((req) => {
    // A plain request cannot carry a session; it still spends the token, as the kubelet's does.
    const m = ROUTE.exec(new URL(req.url ?? "/", "http://x").pathname);
    if (m) cache.consume(m[2]!);
    rejectUpgrade(req.socket, m ? 400 : 404, m ? "this URL must be upgraded to SPDY/3.1 or WebSocket" : "404 page not found");
  });
  server.on("clientError", (err, socket) => {
    log.debug("streaming: malformed HTTP request", { error: err.message });
    rejectUpgrade(socket, 400, "malformed HTTP request");
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    const run = serveUpgrade(req, socket, head).catch((err: unknown) => {
      log.warn("streaming: session failed", { error: (err as Error)?.message ?? String(err) });
      socket.destroy();
    });
    sessions.add(run);
    void run.finally(() => sessions.delete(run));
  });

  async function serveUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const m = ROUTE.exec(url.pathname);
    if (!m) return rejectUpgrade(socket, 404, "404 page not found");
    const cached = cache.consume(m[2]!);
    if (!cached || cached.kind !== m[1]) {
      return rejectUpgrade(socket, 404, `streaming URL not found: the token is unknown, already used or expired (tokens live ${Math.round((opts.tokenTtlMs ?? 60_000) / 1000)} s)`);
    }
    if (isWebSocketRequest(req)) return serveWebSocket(req, url, socket, head, cached);
    const upgrade = (req.headers.upgrade ?? "").toLowerCase();
    const connection = (req.headers.connection ?? "").toLowerCase();
    if (!upgrade.includes("spdy/3.1") || !connection.includes("upgrade")) {
      return rejectUpgrade(socket, 400, `unable to upgrade: expected "Upgrade: SPDY/3.1" or "Upgrade: websocket", got ${JSON.stringify(req.headers.upgrade ?? "")}`);
    }
    const supported: readonly string[] = cached.kind === "portforward" ? [PORT_FORWARD_SPDY_PROTOCOL] : REMOTE_COMMAND_SPDY_PROTOCOLS;
    const offered = req.headers["x-stream-protocol-version"];
    if (offered === undefined) return rejectUpgrade(socket, 400, "unable to upgrade: X-Stream-Protocol-Version is required");
    const protocol = negotiateStreamProtocol(offered, supported);
    if (!protocol) {
      return rejectUpgrade(socket, 403, `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(offered)}, server accepts ${supported.join(", ")}`, {
        "X-Accepted-Stream-Protocol-Versions": supported.join(", "),
      });
    }
    socket.write(["HTTP/1.1 101 Switching Protocols", "Connection: Upgrade", "Upgrade: SPDY/3.1", `X-Stream-Protocol-Version: ${protocol}`].join("\r\n") + "\r\n\r\n");
    if (cached.kind === "portforward") {
      await serveSpdyPortForward(socket, head, { podSandboxId: cached.request.podSandboxId, handlers: opts.handlers, logger: log, idleTimeoutMs, streamCreationTimeoutMs });
      return;
    }
    const session = await acceptSpdyRemoteCommand(socket, head, { protocol, requested: requestedStreams(cached.request), logger: log, idleTimeoutMs, streamCreationTimeoutMs });
    if (session) await runCommand(session, cached);
  }

  async function serveWebSocket(req: IncomingMessage, url: URL, socket: Duplex, head: Buffer, cached: CachedRequest): Promise<void> {
    const table = cached.kind === "portforward" ? PORT_FORWARD_WS_PROTOCOLS : REMOTE_COMMAND_WS_PROTOCOLS;
    const hs = negotiateWebSocket(req, [...table.keys()]);
    if (!hs.ok) return rejectUpgrade(socket, hs.status, hs.message);
    const info = table.get(hs.protocol)!;
    if (cached.kind === "portforward") {
      // The CRI request names the ports; a client may add them as ?port=… as the kubelet allows.
      let ports = [...(cached.request.port ?? [])];
      if (ports.length === 0) {
        const fromQuery = url.searchParams.getAll("port").flatMap((v) => v.split(",")).map((v) => parsePort(v.trim()));
        if (fromQuery.length === 0 || fromQuery.some((p) => p === undefined)) {
          return rejectUpgrade(socket, 400, `port-forward needs ports: none in the request and the "port" query parameter is missing or invalid`);
        }
        ports = fromQuery as number[];
      }
      socket.write(hs.response);
      await serveWebSocketPortForward(socket, head, { podSandboxId: cached.request.podSandboxId, ports, protocol: info, handlers: opts.handlers, logger: log, idleTimeoutMs });
      return;
    }
    socket.write(hs.response);
    const session = acceptWebSocketRemoteCommand(socket, head, { protocol: info, requested: requestedStreams(cached.request), logger: log, idleTimeoutMs });
    await runCommand(session, cached);
  }

  function runCommand(session: RemoteCommandSession, cached: RemoteCommand): Promise<void> {
    return runRemoteCommand(session, cached, opts.handlers, log);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.address ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  const base = `http://${host}:${addr.port}`;
  const register = (entry: CachedRequest): string => `${base}/${entry.kind}/${cache.insert(entry)}`;

  return {
    url: base,
    port: addr.port,
    getExecUrl(req) {
      validateStreams("exec", req);
      return register({ kind: "exec", request: { ...req, cmd: [...req.cmd] } });
    },
    getAttachUrl(req) {
      validateStreams("attach", req);
      return register({ kind: "attach", request: { ...req } });
    },
    getPortForwardUrl(req) {
      if (!req.podSandboxId) throw invalidArgument("port-forward: missing required pod_sandbox_id");
      for (const p of req.port ?? []) {
        if (!Number.isInteger(p) || p < 1 || p > 65535) throw invalidArgument(`port-forward: invalid port ${p}`);
      }
      return register({ kind: "portforward", request: { ...req, port: [...(req.port ?? [])] } });
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await closed;
      await Promise.allSettled([...sessions]);
    },
  };
}
