import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage, type DescMethod, type DescService, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { LEASE_HEADER, NAMESPACE_HEADER, fromGrpcStatus } from "@berth/core";

/** Per-call options: the namespace header, a lease, cancellation, and a deadline. */
export interface CallOptions {
  namespace?: string;
  /** Resources the call creates are held by this lease (containerd's `containerd-lease` header). */
  lease?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

type MethodShape = { methodKind: string; input: DescMessage; output: DescMessage };
type In<M extends MethodShape> = MessageInitShape<M["input"]>;
type Out<M extends MethodShape> = MessageShape<M["output"]>;

export type ClientMethod<M extends MethodShape> = M["methodKind"] extends "unary"
  ? (request: In<M>, opts?: CallOptions) => Promise<Out<M>>
  : M["methodKind"] extends "server_streaming"
    ? (request: In<M>, opts?: CallOptions) => AsyncIterable<Out<M>>
    : M["methodKind"] extends "client_streaming"
      ? (requests: AsyncIterable<In<M>>, opts?: CallOptions) => Promise<Out<M>>
      : (requests: AsyncIterable<In<M>>, opts?: CallOptions) => AsyncIterable<Out<M>>;

/** A typed client for one service: a method per RPC, errors as Berth's typed errors. */
export type ServiceClient<S extends DescService> = {
  [K in keyof S["method"]]: S["method"][K] extends MethodShape ? ClientMethod<S["method"][K]> : never;
};

/** Builds a typed client for `service` over a grpc-js channel; `defaults` apply to every call. */
export function createServiceClient<S extends DescService>(channel: grpc.Client, service: S, defaults: CallOptions = {}): ServiceClient<S> {
  const client: Record<string, unknown> = {};
  for (const method of service.methods) client[method.localName] = callerFor(channel, method, defaults);
  return client as ServiceClient<S>;
}

function callerFor(channel: grpc.Client, method: DescMethod, defaults: CallOptions) {
  const path = `/${method.parent.typeName}/${method.name}`;
  const serialize = (msg: unknown) => Buffer.from(toBinary(method.input, create(method.input, msg as never)));
  const deserialize = (bytes: Buffer) => fromBinary(method.output, bytes);
  const prepare = (opts: CallOptions = {}) => {
    const merged = { ...defaults, ...opts };
    const metadata = new grpc.Metadata();
    if (merged.namespace) metadata.set(NAMESPACE_HEADER, merged.namespace);
    if (merged.lease) metadata.set(LEASE_HEADER, merged.lease);
    const callOpts: grpc.CallOptions = merged.timeoutMs ? { deadline: Date.now() + merged.timeoutMs } : {};
    return { metadata, callOpts, signal: merged.signal };
  };
  const cancelOn = (call: grpc.Call, signal: AbortSignal | undefined) => {
    if (!signal) return;
    if (signal.aborted) call.cancel();
    else signal.addEventListener("abort", () => call.cancel(), { once: true });
  };

  switch (method.methodKind) {
    case "unary":
      return (request: unknown, opts?: CallOptions) => {
        const { metadata, callOpts, signal } = prepare(opts);
        return new Promise((resolve, reject) => {
          const call = channel.makeUnaryRequest(path, serialize, deserialize, request, metadata, callOpts, (err, res) =>
            err ? reject(toBerthError(err)) : resolve(res),
          );
          cancelOn(call, signal);
        });
      };
    case "client_streaming":
      return (requests: AsyncIterable<unknown>, opts?: CallOptions) => {
        const { metadata, callOpts, signal } = prepare(opts);
        return new Promise((resolve, reject) => {
          const call = channel.makeClientStreamRequest(path, serialize, deserialize, metadata, callOpts, (err, res) =>
            err ? reject(toBerthError(err)) : resolve(res),
          );
          cancelOn(call, signal);
          pump(requests, call).catch(() => call.cancel());
        });
      };
    case "server_streaming":
      return (request: unknown, opts?: CallOptions) => {
        const { metadata, callOpts, signal } = prepare(opts);
        const call = channel.makeServerStreamRequest(path, serialize, deserialize, request, metadata, callOpts);
        cancelOn(call, signal);
        return readAll(call, signal);
      };
    case "bidi_streaming":
      return (requests: AsyncIterable<unknown>, opts?: CallOptions) => {
        const { metadata, callOpts, signal } = prepare(opts);
        const call = channel.makeBidiStreamRequest(path, serialize, deserialize, metadata, callOpts);
        cancelOn(call, signal);
        pump(requests, call).catch(() => call.cancel());
        return readAll(call, signal);
      };
  }
}

async function pump(requests: AsyncIterable<unknown>, call: grpc.ClientWritableStream<unknown>): Promise<void> {
  for await (const req of requests) {
    if (!call.write(req)) await new Promise((resolve) => call.once("drain", resolve));
  }
  call.end();
}

/** Reads a response stream; a cancel the caller asked for ends it quietly. */
async function* readAll(call: grpc.ClientReadableStream<unknown>, signal: AbortSignal | undefined): AsyncIterable<never> {
  try {
    for await (const msg of call) yield msg as never;
  } catch (err) {
    if (signal?.aborted && (err as grpc.ServiceError).code === grpc.status.CANCELLED) return;
    throw toBerthError(err);
  } finally {
    call.cancel();
  }
}

function toBerthError(err: unknown) {
  const e = err as Partial<grpc.ServiceError>;
  return typeof e.code === "number" ? fromGrpcStatus(e.code, e.details ?? e.message ?? "", err) : fromGrpcStatus(2, String(err), err);
}

/** Makes a typed client for any service over one connection (BerthClient.service). */
export type ServiceFactory = <S extends DescService>(service: S) => ServiceClient<S>;
