import type { Socket } from "node:net";
import type { DescMessage, DescMethod, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { callBidiStream, callClientStream, callServerStream, callUnary, type CallTarget } from "./client-calls.js";
import { ClientConnection, connectTtrpc, type TtrpcConnection } from "./client-connection.js";
import type { TtrpcCallOptions } from "./call-scope.js";

type MethodShape = { methodKind: string; input: DescMessage; output: DescMessage };
type In<M extends MethodShape> = MessageInitShape<M["input"]>;
type Out<M extends MethodShape> = MessageShape<M["output"]>;

/** A client method, its form chosen by the method's kind (as connect-es and Berth's gRPC handlers do). */
export type TtrpcClientMethod<M extends MethodShape> = M["methodKind"] extends "unary"
  ? (request: In<M>, options?: TtrpcCallOptions) => Promise<Out<M>>
  : M["methodKind"] extends "server_streaming"
    ? (request: In<M>, options?: TtrpcCallOptions) => AsyncIterable<Out<M>>
    : M["methodKind"] extends "client_streaming"
      ? (requests: AsyncIterable<In<M>>, options?: TtrpcCallOptions) => Promise<Out<M>>
      : (requests: AsyncIterable<In<M>>, options?: TtrpcCallOptions) => AsyncIterable<Out<M>>;

/** A typed ttrpc client: one method per RPC, named as protobuf-es names them (`state`, `resizePty`). */
export type TtrpcClient<S extends DescService> = {
  readonly [K in keyof S["method"]]: S["method"][K] extends MethodShape ? TtrpcClientMethod<S["method"][K]> : never;
} & TtrpcClientHandle;

export interface TtrpcClientHandle {
  /** The connection the client's calls travel on. */
  readonly connection: TtrpcConnection;
  /** Closes the connection (and so every client sharing it); calls in flight fail with Unavailable. */
  close(): Promise<void>;
}

/** Defaults for every call of a client; a call's own options override them. */
export type TtrpcClientOptions = Omit<TtrpcCallOptions, "signal">;

/**
 * A client for `service` over ttrpc. `target` is a UNIX socket path (or unix:// address), a
 * connected socket, or a connection another client already uses (containerd talks to a shim's
 * Task and Sandbox services over one connection). The connection is made at once; a failure to
 * connect shows as Unavailable on the calls.
 */
export function createTtrpcClient<S extends DescService>(
  target: string | Socket | TtrpcConnection,
  service: S,
  options: TtrpcClientOptions = {},
): TtrpcClient<S> {
  const connection = target instanceof ClientConnection ? target : connectTtrpc(target as string | Socket);
  const client: Record<string, unknown> = {
    connection,
    close: () => connection.close(),
  };
  for (const method of service.methods) client[method.localName] = bindMethod({ connection, method, defaults: options });
  return client as TtrpcClient<S>;
}

/** A connection to share between clients of several services. */
export function createTtrpcConnection(target: string | Socket): TtrpcConnection {
  return connectTtrpc(target);
}

function bindMethod(target: CallTarget & { method: DescMethod }): unknown {
  switch (target.method.methodKind) {
    case "unary":
      return (request: never, options?: TtrpcCallOptions) => callUnary(target, request, options);
    case "server_streaming":
      return (request: never, options?: TtrpcCallOptions) => callServerStream(target, request, options);
    case "client_streaming":
      return (requests: AsyncIterable<never>, options?: TtrpcCallOptions) => callClientStream(target, requests, options);
    case "bidi_streaming":
      return (requests: AsyncIterable<never>, options?: TtrpcCallOptions) => callBidiStream(target, requests, options);
  }
}
