import * as grpc from "@grpc/grpc-js";
import type { DescService } from "@bufbuild/protobuf";
import { createServiceClient, type CallOptions, type ServiceClient } from "@berth/client";
import { classOf, unavailable, type OpContext } from "@berth/core";

/** One gRPC channel to a proxy plugin's socket, shared by the service clients made from it. */
export interface ProxyConnection {
  /** `unix://<path>` for a path, else the grpc-js target as given. */
  readonly target: string;
  service<S extends DescService>(service: S): ServiceClient<S>;
  close(): void;
}

/**
 * grpc-js waits up to two minutes between reconnect attempts by default; a proxy on a local
 * socket that was restarted should be used again within a second.
 */
const RECONNECT_BACKOFF = {
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 1_000,
  // Blobs travel in 1 MiB messages; leave room for their envelope.
  "grpc.max_receive_message_length": 16 << 20,
  "grpc.max_send_message_length": 16 << 20,
};

/**
 * Dials `address` lazily: nothing connects until the first call, a dead proxy makes calls fail
 * at once with Unavailable (no waiting for ready), and the channel reconnects by itself.
 */
export function connectProxy(address: string): ProxyConnection {
  const target = address.startsWith("/") ? `unix://${address}` : address;
  const channel = new grpc.Client(target, grpc.credentials.createInsecure(), RECONNECT_BACKOFF);
  return {
    target,
    service: (service) => createServiceClient(channel, service),
    close: () => channel.close(),
  };
}

/** A store call's context as call options: its namespace travels as the containerd-namespace header. */
export function callOptions(ctx: OpContext): CallOptions {
  const opts: CallOptions = { namespace: ctx.namespace };
  if (ctx.lease) opts.lease = ctx.lease;
  if (ctx.signal) opts.signal = ctx.signal;
  return opts;
}

/**
 * Runs one remote call; an Unavailable error (the proxy is down or restarting, or a ref is
 * locked there) gets the proxy's name and address in front, so what reaches `ctr` says which
 * plugin answered. Every other error passes unchanged.
 */
export async function remote<T>(name: string, target: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw nameProxy(name, target, err);
  }
}

export function nameProxy(name: string, target: string, err: unknown): unknown {
  if (classOf(err) !== "Unavailable") return err;
  return unavailable(`proxy plugin ${name} (${target}): ${(err as Error).message}`, err);
}
