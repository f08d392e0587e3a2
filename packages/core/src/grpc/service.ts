import type { DescMessage, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";

/**
 * What a gRPC handler knows about its call. Handlers never see transport objects, so any
 * server (grpc-js in the daemon, an in-memory router in tests) can drive them.
 */
export interface CallContext {
  /** The `containerd-namespace` header, validated; undefined when the caller sent none. */
  readonly namespace: string | undefined;
  /** Request metadata, lower-cased keys. */
  readonly metadata: ReadonlyMap<string, readonly string[]>;
  /** Aborted when the caller cancels or the deadline passes. */
  readonly signal: AbortSignal;
}

type MethodShape = { methodKind: string; input: DescMessage; output: DescMessage };

type Out<M extends MethodShape> = MessageInitShape<M["output"]>;
type In<M extends MethodShape> = MessageShape<M["input"]>;

/** A handler for one method, its form chosen by the method's kind. */
export type MethodImpl<M extends MethodShape> = M["methodKind"] extends "unary"
  ? (request: In<M>, ctx: CallContext) => Promise<Out<M>>
  : M["methodKind"] extends "server_streaming"
    ? (request: In<M>, ctx: CallContext) => AsyncIterable<Out<M>>
    : M["methodKind"] extends "client_streaming"
      ? (requests: AsyncIterable<In<M>>, ctx: CallContext) => Promise<Out<M>>
      : (requests: AsyncIterable<In<M>>, ctx: CallContext) => AsyncIterable<Out<M>>;

/** Handlers for every method of a service, keyed by the method's local (camelCase) name. */
export type ServiceImpl<S extends DescService> = {
  [K in keyof S["method"]]: S["method"][K] extends MethodShape ? MethodImpl<S["method"][K]> : never;
};

/** A service descriptor paired with its handlers; `partial` leaves missing methods Unimplemented. */
export interface ServiceBinding {
  readonly service: DescService;
  readonly impl: Partial<Record<string, (...args: never[]) => unknown>>;
}

export function bindService<S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>): ServiceBinding {
  return { service, impl: impl as ServiceBinding["impl"] };
}

/** What an io.containerd.grpc.v1 plugin returns: the services it serves on the daemon's socket. */
export interface GrpcService {
  readonly bindings: readonly ServiceBinding[];
}
