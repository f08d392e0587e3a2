import { connect } from "node:net";
import { mkdir, unlink, lstat } from "node:fs/promises";
import { dirname } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMethod } from "@bufbuild/protobuf";
import { NAMESPACE_HEADER, failedPrecondition, isBerthError, toGrpcStatus, validateIdentifier, type CallContext, type ServiceBinding } from "@berth/core";

/** A gRPC server on a UNIX socket; `close` stops it and removes the socket. */
export interface SocketServer {
  readonly address: string;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** The UNIX socket path to listen on. A stale socket is replaced; a live one is refused. */
  readonly address: string;
  /** Aborting it closes the server, like `close()`. */
  readonly signal?: AbortSignal;
  /** Called with errors that are not errdefs errors (bugs, not answers); default console.error. */
  readonly onUnexpectedError?: (method: string, err: unknown) => void;
}

type AnyHandler = (input: unknown, ctx: CallContext) => unknown;
type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerReadableStream<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

/**
 * Serves protobuf-es service bindings (core's bindService) with grpc-js on a UNIX socket.
 * Handlers get core's CallContext; errdefs errors become the gRPC codes containerd's clients
 * expect. Deliberately small: a plugin process serves one or two services to one daemon.
 */
export async function serveBindings(bindings: readonly ServiceBinding[], opts: ServeOptions): Promise<SocketServer> {
  const server = new grpc.Server({ "grpc.max_receive_message_length": 16 << 20, "grpc.max_send_message_length": 16 << 20 });
  const shutdown = new AbortController();
  const report = opts.onUnexpectedError ?? ((method, err) => console.error(`${method}: unexpected error`, err));
  for (const { service, impl } of bindings) {
    const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
    const handlers: grpc.UntypedServiceImplementation = {};
    for (const method of service.methods) {
      const handler = impl[method.localName] as AnyHandler | undefined;
      if (!handler) continue;
      definition[method.name] = methodDefinition(method);
      handlers[method.name] = adapt(method, handler, shutdown.signal, report);
    }
    server.addService(definition, handlers);
  }
  await prepareSocket(opts.address);
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${opts.address}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      shutdown.abort();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      await unlink(opts.address).catch(() => undefined);
    })());
  opts.signal?.addEventListener("abort", () => void close(), { once: true });
  return { address: opts.address, close };
}

function methodDefinition(method: DescMethod): grpc.MethodDefinition<unknown, unknown> {
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    requestDeserialize: (bytes: Buffer) => fromBinary(method.input, bytes),
    requestSerialize: (msg: unknown) => Buffer.from(toBinary(method.input, create(method.input, msg as never))),
    responseSerialize: (msg: unknown) => Buffer.from(toBinary(method.output, create(method.output, msg as never))),
    responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
  };
}

function adapt(method: DescMethod, handler: AnyHandler, shutdown: AbortSignal, report: (method: string, err: unknown) => void) {
  const requestStream = method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming";
  const responseStream = method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming";
  return (call: AnyCall, callback?: grpc.sendUnaryData<unknown>) => {
    const cancelled = new AbortController();
    (call as NodeJS.EventEmitter).on("cancelled", () => cancelled.abort());
    const fail = (err: unknown) => {
      if (!isBerthError(err)) report(`/${method.parent.typeName}/${method.name}`, err);
      const status = toGrpcStatus(err);
      if (callback) callback(status);
      else (call as NodeJS.EventEmitter).emit("error", status);
    };
    const run = async () => {
      const metadata = new Map<string, string[]>();
      for (const [key, values] of Object.entries(call.metadata.toJSON())) metadata.set(key, values.map(String));
      const namespace = metadata.get(NAMESPACE_HEADER)?.[0];
      if (namespace !== undefined) validateIdentifier(namespace);
      // containerd's proxy sends no namespace (its metadata has already mapped keys per
      // namespace), berthd's does: a served backend sees "" when none came.
      const ctx: CallContext = { namespace: namespace ?? "", metadata, signal: AbortSignal.any([cancelled.signal, shutdown]) };
      const output = handler(requestStream ? call : (call as grpc.ServerUnaryCall<unknown, unknown>).request, ctx);
      if (!responseStream) {
        callback!(null, await output);
        return;
      }
      const writer = call as grpc.ServerWritableStream<unknown, unknown>;
      for await (const message of output as AsyncIterable<unknown>) {
        if (ctx.signal.aborted) break;
        if (!writer.write(message)) await new Promise((resolve) => writer.once("drain", resolve));
      }
      writer.end();
    };
    run().catch(fail);
  };
}

/** Parent dirs made; a socket nobody answers on (left by a killed server) removed. */
async function prepareSocket(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const st = await lstat(path).catch(() => undefined);
  if (!st) return;
  if (!st.isSocket()) throw failedPrecondition(`${path} exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
  if (live) throw failedPrecondition(`something is already serving on ${path}`);
  await unlink(path);
}
