import { createServer, type Server as NetServer, type Socket } from "node:net";
import type { DescMethod } from "@bufbuild/protobuf";
import { unavailable, type Logger, type ServiceBinding } from "@berth/core";
import { GrpcCall, statusTrailers, unknownMethodStatus, type AnyHandler, type CallEnvironment, type MethodObserver, type RegisteredMethod } from "./call.js";
import { Http2ServerConnection } from "./connection.js";
import type { ServerStream } from "./stream.js";

export interface GrpcServerOptions {
  maxRecvMessageSize: number;
  maxSendMessageSize: number;
  log: Logger;
  /** Errors from handlers that are not BerthErrors (bugs, not answers); logged at error level by default. */
  onUnexpectedError?(method: string, err: unknown): void;
  /** Told of every call per method (metrics); none by default. */
  observer?: { forMethod(method: DescMethod): MethodObserver };
  /**
   * Receive window per stream. containerd's clients send content as 1 MiB WriteContent
   * messages, one at a time, each waiting for its answer; with HTTP/2's default 64 KiB every
   * message would stop for ~30 WINDOW_UPDATE round trips. The window still bounds what a peer
   * can make the server buffer: a client stream's window is held back while its decoded
   * messages wait unread.
   */
  streamWindow?: number;
  /** Receive window of each connection; given back as data arrives. */
  connectionWindow?: number;
  maxConcurrentStreams?: number;
  maxHeaderListSize?: number;
}

const DEFAULT_STREAM_WINDOW = 4 * 1024 * 1024;
const DEFAULT_CONNECTION_WINDOW = 16 * 1024 * 1024;
const DEFAULT_MAX_CONCURRENT_STREAMS = 1000;
/** grpc-go's default limit on the headers it accepts. */
const DEFAULT_MAX_HEADER_LIST_SIZE = 16 * 1024 * 1024;

const NOOP_OBSERVER: MethodObserver = { started() {}, handled() {} };

/**
 * A gRPC server for protobuf-es service bindings over HTTP/2 with prior knowledge, on UNIX
 * sockets and plain TCP. Handlers get a CallContext; errors become containerd's status codes.
 *
 * Why not grpc-js: on node:http2 every call pays for nghttp2's callbacks into JavaScript, an
 * Http2Stream (a Node stream) and grpc-js's call objects: ~0.3 ms of a unary call's latency more
 * than containerd's Go server, across the ~45 calls of one `ctr run --rm`. Here a connection
 * parses frames from the socket's bytes itself, and a unary call's answer (headers, message,
 * trailers) leaves in one write. It also takes any `:authority` (grpc-go clients dialling a
 * socket path send that path, which nghttp2 refuses).
 */
export class GrpcServer {
  private readonly methods = new Map<string, RegisteredMethod>();
  private readonly services = new Set<string>();
  private readonly listeners: NetServer[] = [];
  private readonly connections = new Set<Http2ServerConnection>();
  private readonly inFlight = new Set<AbortController>();
  private readonly env: CallEnvironment;
  private closing = false;

  constructor(
    bindings: readonly ServiceBinding[],
    private readonly opts: GrpcServerOptions,
  ) {
    for (const { service, impl } of bindings) {
      this.services.add(service.typeName);
      for (const method of service.methods) {
        const handler = impl[method.localName] as AnyHandler | undefined;
        if (!handler) continue; // answered Unimplemented
        const path = `/${service.typeName}/${method.name}`;
        this.methods.set(path, {
          method,
          path,
          handler: handler.bind(impl) as AnyHandler,
          observer: opts.observer?.forMethod(method) ?? NOOP_OBSERVER,
          requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
          responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
        });
      }
    }
    this.env = {
      maxRecvMessageSize: opts.maxRecvMessageSize,
      maxSendMessageSize: opts.maxSendMessageSize,
      reportUnexpected: opts.onUnexpectedError ?? ((method, err) => opts.log.error("unexpected error in gRPC handler", { method, error: err })),
      track: (controller) => {
        if (this.closing) controller.abort(shuttingDown());
        this.inFlight.add(controller);
        return () => this.inFlight.delete(controller);
      },
    };
  }

  /** Listens on a UNIX socket at `path` (which must not exist yet). */
  listenUnix(path: string): Promise<void> {
    return this.listen((server, done) => server.listen(path, done)).then(() => undefined);
  }

  /** Listens on TCP at `host:port` (`[v6]:port` too); resolves with the port (0 picks one). */
  listenTcp(address: string): Promise<number> {
    const colon = address.lastIndexOf(":");
    const port = Number(address.slice(colon + 1));
    if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
      return Promise.reject(new Error(`not a host:port address: ${JSON.stringify(address)}`));
    }
    const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
    return this.listen((server, done) => server.listen({ host: host || undefined, port }, done));
  }

  private listen(start: (server: NetServer, done: () => void) => void): Promise<number> {
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.listeners.push(server);
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      start(server, () => {
        server.off("error", reject);
        const bound = server.address();
        resolve(typeof bound === "object" && bound ? bound.port : 0);
      });
    });
  }

  /**
   * Stops listening, aborts every call in flight (so endless streams such as event
   * subscriptions end), tells every client GOAWAY, and waits up to `graceMs` for connections
   * to close before cutting the rest.
   */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    for (const server of this.listeners) server.close();
    for (const controller of this.inFlight) controller.abort(shuttingDown());
    for (const connection of this.connections) connection.goAway();
    const allClosed = Promise.all([...this.connections].map((c) => c.closed()));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([allClosed, timeout]);
    clearTimeout(timer);
    for (const connection of this.connections) connection.destroy();
    await allClosed;
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const connection = new Http2ServerConnection(socket, {
      streamWindow: this.opts.streamWindow ?? DEFAULT_STREAM_WINDOW,
      connectionWindow: this.opts.connectionWindow ?? DEFAULT_CONNECTION_WINDOW,
      maxConcurrentStreams: this.opts.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS,
      maxHeaderListSize: this.opts.maxHeaderListSize ?? DEFAULT_MAX_HEADER_LIST_SIZE,
      onStream: (stream) => this.serve(stream),
      onProtocolError: (err) => this.opts.log.debug("closed a connection that broke HTTP/2", { error: err.message, code: err.code }),
      onInternalError: (err) => this.opts.log.error("gRPC connection failed on an internal error", { error: err }),
    });
    this.connections.add(connection);
    void connection.closed().then(() => this.connections.delete(connection));
  }

  private serve(stream: ServerStream): void {
    const contentType = stream.header("content-type");
    if (stream.header(":method") !== "POST" || !contentType?.startsWith("application/grpc")) {
      // Not a gRPC request (gRPC over HTTP/2: answer 415 to a foreign content-type).
      stream.sendHeaders([[":status", "415"], ["content-type", "text/plain"]], true);
      return;
    }
    const path = stream.header(":path") ?? "";
    const entry = this.methods.get(path);
    if (entry) {
      new GrpcCall(stream, entry, this.env);
      return;
    }
    const status = unknownMethodStatus(path, this.services);
    stream.sendHeaders(statusTrailers(status.code, status.details, true), true);
  }
}

function shuttingDown(): Error {
  return unavailable("the server is shutting down");
}
