import type { Http2Server } from "node:http2";
import { Server as TlsServer } from "node:tls";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage, type DescMethod } from "@bufbuild/protobuf";
import {
  NAMESPACE_HEADER,
  canceled,
  isBerthError,
  toGrpcStatus,
  validateIdentifier,
  type CallContext,
  type Logger,
  type ServiceBinding,
} from "@berth/core";
import type { GrpcMetrics } from "../metrics/grpc-metrics.js";
import { routeConnectionsByAuthority, type ConnectionRoute } from "./path-authority.js";

export interface GrpcServerOptions {
  maxRecvMessageSize: number;
  maxSendMessageSize: number;
  log: Logger;
  metrics: GrpcMetrics;
  /** Aborting it ends every call in flight, so shutdown does not wait on endless streams. */
  shutdown: AbortSignal;
  /** Told how each connection was routed (see path-authority.ts); for tests. */
  onConnectionRouted?: (route: ConnectionRoute) => void;
}

type AnyHandler = (...args: unknown[]) => unknown;

/**
 * A grpc-js server serving protobuf-es service bindings. This is the only place that knows
 * grpc-js call objects: handlers get a CallContext, errors become containerd's status codes.
 */
export function createGrpcServer(bindings: readonly ServiceBinding[], opts: GrpcServerOptions): grpc.Server {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": opts.maxRecvMessageSize,
    "grpc.max_send_message_length": opts.maxSendMessageSize,
    // Nothing serves channelz; its per-call bookkeeping was ~3% of berthd's CPU in `run --rm`.
    "grpc.enable_channelz": 0,
  });
  raiseStreamResetLimits(server);
  widenFlowControlWindows(server, FLOW_CONTROL_WINDOW);
  acceptPathAuthorities(server, opts.onConnectionRouted);
  const inFlight = new InFlightCalls(opts.shutdown);
  for (const { service, impl } of bindings) {
    const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
    const handlers: grpc.UntypedServiceImplementation = {};
    for (const method of service.methods) {
      const handler = impl[method.localName] as AnyHandler | undefined;
      if (!handler) continue; // grpc-js answers Unimplemented for it
      definition[method.name] = methodDefinition(method);
      handlers[method.name] = adapt(method, handler, opts, inFlight);
    }
    server.addService(definition, handlers);
  }
  return server;
}

/**
 * `ctr content get` reads a blob as one Read stream per 32 KiB and cancels each as soon as it
 * has its bytes; every cancel is an HTTP/2 stream reset, and Node's default limit (1000 plus
 * 33/s per connection, a guard against rapid-reset floods) drops the connection after ~1100.
 * grpc-js passes no option for it, so the limits go into the options it hands to
 * http2.createServer. The socket is local and root-only, where that flood guard buys little.
 */
function raiseStreamResetLimits(server: grpc.Server): void {
  const internals = server as unknown as { commonServerOptions?: Record<string, unknown> };
  if (!internals.commonServerOptions) throw new Error("grpc-js changed: no commonServerOptions to raise HTTP/2 stream reset limits");
  internals.commonServerOptions["streamResetBurst"] = 1_000_000;
  internals.commonServerOptions["streamResetRate"] = 100_000;
}

/**
 * HTTP/2 receive window, per stream and per connection. With Node's default of 64 KiB for both,
 * a client sending a large message stops every 32 KiB until a WINDOW_UPDATE comes back.
 * containerd's clients send content as 1 MiB WriteContent messages, one at a time, each waiting
 * for its answer, so every message cost ~30 such round trips: `ctr content ingest` ran at 0.65x
 * of the speed it reaches with a window that holds a whole message. The window still bounds
 * what a peer can make the daemon buffer: grpc-js stops reading a stream that holds a whole
 * message its handler has not taken yet.
 */
const FLOW_CONTROL_WINDOW = 4 * 1024 * 1024;

/**
 * grpc-js (1.14) has no server option for the window: the per-stream size goes into the
 * SETTINGS of the options it hands to http2.createServer, and the connection's (which SETTINGS
 * cannot change) is raised on each session as it starts.
 */
function widenFlowControlWindows(server: grpc.Server, size: number): void {
  const internals = server as unknown as {
    commonServerOptions?: Record<string, unknown>;
    createHttp2Server?: (...args: unknown[]) => Http2Server;
  };
  const createHttp2Server = internals.createHttp2Server;
  if (!internals.commonServerOptions || typeof createHttp2Server !== "function") {
    throw new Error("grpc-js changed: no commonServerOptions/createHttp2Server to widen HTTP/2 flow-control windows");
  }
  const settings = internals.commonServerOptions["settings"] as Record<string, unknown> | undefined;
  internals.commonServerOptions["settings"] = { ...settings, initialWindowSize: size };
  internals.createHttp2Server = (...args: unknown[]) => {
    const http2Server = createHttp2Server.apply(server, args);
    http2Server.on("session", (session) => {
      try {
        session.setLocalWindowSize(size);
      } catch {
        // Only a session already torn down refuses; it needs no window.
      }
    });
    return http2Server;
  };
}

/**
 * grpc-go clients that dial a socket by its path (crictl, the kubelet) send the path as
 * `:authority`, which Node's HTTP/2 rejects; every HTTP/2 server grpc-js creates gets the
 * connection router of path-authority.ts in front of it.
 */
function acceptPathAuthorities(server: grpc.Server, onRoute: ((route: ConnectionRoute) => void) | undefined): void {
  const internals = server as unknown as { createHttp2Server?: (...args: unknown[]) => Http2Server };
  const createHttp2Server = internals.createHttp2Server;
  if (typeof createHttp2Server !== "function") throw new Error("grpc-js changed: no createHttp2Server to route connections by :authority");
  internals.createHttp2Server = (...args: unknown[]) => {
    const http2Server = createHttp2Server.apply(server, args);
    // Only plain-text servers: the clients that send paths dial UNIX sockets without TLS, and a
    // TLS server's connections reach HTTP/2 through 'secureConnection' instead.
    if (!(http2Server instanceof TlsServer)) routeConnectionsByAuthority(http2Server, onRoute ? { onRoute } : {});
    return http2Server;
  };
}

function methodDefinition(method: DescMethod): grpc.MethodDefinition<unknown, unknown> {
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    requestDeserialize: (bytes: Buffer) => fromBinary(method.input, bytes),
    requestSerialize: (msg: unknown) => Buffer.from(toBinary(method.input, create(method.input, msg as never))),
    responseSerialize: (msg: unknown) => Buffer.from(toBinary(method.output, asMessage(method.output, msg))),
    responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
    originalName: method.localName,
  };
}

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerReadableStream<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>;
type StatusObject = { code: number; details: string };

/** A handler's response as a message of `schema`: one already built is sent as is, not copied again. */
function asMessage(schema: DescMessage, msg: unknown): never {
  const typeName = (msg as { $typeName?: unknown } | null | undefined)?.$typeName;
  return (typeName === schema.typeName ? msg : create(schema, msg as never)) as never;
}

/** One call's cancellation: its signal, and the end of the call, which stops listening for it. */
interface InFlightCall {
  readonly signal: AbortSignal;
  end(): void;
}

/**
 * Calls in flight, each with its own controller, so that shutdown aborts them all through one
 * listener instead of every call combining its signal with the shutdown signal.
 */
class InFlightCalls {
  readonly #controllers = new Set<AbortController>();
  #shutdown: AbortSignal;

  constructor(shutdown: AbortSignal) {
    this.#shutdown = shutdown;
    shutdown.addEventListener("abort", () => {
      for (const controller of this.#controllers) controller.abort(shutdown.reason);
    }, { once: true });
  }

  /** A signal aborted when the call is cancelled or the server shuts down, until the call ends. */
  begin(call: AnyCall): InFlightCall {
    const controller = new AbortController();
    if (this.#shutdown.aborted) controller.abort(this.#shutdown.reason);
    else this.#controllers.add(controller);
    // grpc-js emits "cancelled" when any call's stream closes, answered ones too: the listener
    // goes when the call ends, so an answered call never builds an abort reason nobody reads.
    const emitter = call as NodeJS.EventEmitter;
    const onCancelled = () => controller.abort(canceled("the client cancelled the call"));
    emitter.once("cancelled", onCancelled);
    return {
      signal: controller.signal,
      end: () => {
        this.#controllers.delete(controller);
        emitter.off("cancelled", onCancelled);
      },
    };
  }
}

function callContext(call: AnyCall, signal: AbortSignal): CallContext {
  const metadata = new Map<string, string[]>();
  for (const [key, values] of Object.entries(call.metadata.toJSON())) metadata.set(key, values.map(String));
  const namespace = metadata.get(NAMESPACE_HEADER)?.[0];
  // A malformed namespace is the caller's error, reported before the handler runs.
  if (namespace !== undefined) validateIdentifier(namespace);
  return { namespace, metadata, signal };
}

/**
 * One grpc-js handler for any method kind: the request is the message (unary, server stream)
 * or the call itself as an async iterable (client stream, bidi); the response is returned
 * through the callback or written to the call.
 */
function adapt(method: DescMethod, handler: AnyHandler, opts: GrpcServerOptions, inFlight: InFlightCalls) {
  const fullMethod = `/${method.parent.typeName}/${method.name}`;
  const requestStream = method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming";
  const responseStream = method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming";
  // Label sets are resolved here, once per method, not per call.
  const metrics = opts.metrics.forMethod(method);

  return (call: AnyCall, callback?: grpc.sendUnaryData<unknown>) => {
    const started = performance.now();
    metrics.started();
    const inFlightCall = inFlight.begin(call);
    const finish = (code: number) => {
      inFlightCall.end();
      metrics.handled(code, (performance.now() - started) / 1000);
    };
    const fail = (err: unknown) => {
      const status: StatusObject = toGrpcStatus(err);
      if (!isBerthError(err)) opts.log.error("unexpected error in gRPC handler", { method: fullMethod, error: err });
      finish(status.code);
      if (callback) callback(status);
      else (call as NodeJS.EventEmitter).emit("error", status);
    };
    const run = async () => {
      const ctx = callContext(call, inFlightCall.signal);
      const input = requestStream ? call : (call as grpc.ServerUnaryCall<unknown, unknown>).request;
      const output = handler(input, ctx);
      if (!responseStream) {
        const response = await output;
        finish(0);
        callback!(null, response);
        return;
      }
      const writer = call as grpc.ServerWritableStream<unknown, unknown>;
      for await (const message of output as AsyncIterable<unknown>) {
        if (ctx.signal.aborted) break;
        if (!writer.write(message)) await waitDrain(writer, ctx.signal);
      }
      finish(0);
      writer.end();
    };
    run().catch(fail);
  };
}

function waitDrain(stream: NodeJS.EventEmitter, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const finish = () => {
      stream.off("drain", finish);
      signal.removeEventListener("abort", finish);
      resolve();
    };
    stream.once("drain", finish);
    signal.addEventListener("abort", finish, { once: true });
  });
}
