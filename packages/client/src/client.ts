import * as grpc from "@grpc/grpc-js";
import { eventsApi, introspectionApi, versionApi } from "@berth/api";
import { DEFAULT_ADDRESS, DEFAULT_NAMESPACE, type Envelope, type EventPayload } from "@berth/core";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { createServiceClient, type CallOptions, type ServiceClient } from "./service-client.js";
import type { DescService } from "@bufbuild/protobuf";
import { pullImage, type PullOptions } from "./pull.js";

export interface ClientOptions {
  /** UNIX socket path (or a grpc-js target such as host:port); default /run/berth/berthd.sock. */
  address?: string;
  /** Namespace sent with every call unless a call says otherwise; default "default". */
  namespace?: string;
  /** Deadline for unary calls, in milliseconds. */
  timeoutMs?: number;
}

export interface PluginInfo {
  type: string;
  id: string;
  requires: string[];
  platforms: { os: string; architecture: string; variant: string }[];
  exports: Record<string, string>;
  capabilities: string[];
  status: "ok" | "error" | "skip";
  error: string | undefined;
}

/** A connection to Berth (or containerd) with typed helpers for the common calls. */
export interface BerthClient {
  readonly address: string;
  readonly namespace: string;
  /** The same connection with another default namespace. */
  withNamespace(namespace: string): BerthClient;
  /** A typed client for any containerd service descriptor from @berth/api. */
  service<S extends DescService>(service: S): ServiceClient<S>;
  version(opts?: CallOptions): Promise<{ version: string; revision: string }>;
  server(opts?: CallOptions): Promise<{ uuid: string; pid: number }>;
  plugins(filters?: readonly string[], opts?: CallOptions): Promise<PluginInfo[]>;
  publish(topic: string, event: EventPayload, opts?: CallOptions): Promise<void>;
  /** Events matching any filter, until `signal` aborts. */
  subscribe(filters: readonly string[], signal: AbortSignal): AsyncIterable<Envelope>;
  /** Pulls `ref` in the daemon (containerd's Transfer service), reporting progress as it goes. */
  pull(ref: string, opts?: PullOptions): Promise<void>;
  close(): void;
}

export function createClient(opts: ClientOptions = {}): BerthClient {
  const address = opts.address ?? DEFAULT_ADDRESS;
  const target = address.startsWith("/") ? `unix://${address}` : address;
  const channel = new grpc.Client(target, grpc.credentials.createInsecure());
  return bindClient(channel, address, opts.namespace ?? DEFAULT_NAMESPACE, opts.timeoutMs);
}

function bindClient(channel: grpc.Client, address: string, namespace: string, timeoutMs: number | undefined): BerthClient {
  const defaults: CallOptions = { namespace, ...(timeoutMs ? { timeoutMs } : {}) };
  const service = <S extends DescService>(desc: S) => createServiceClient(channel, desc, defaults);
  const version = service(versionApi.Version);
  const introspection = service(introspectionApi.Introspection);
  const events = service(eventsApi.Events);
  return {
    address,
    namespace,
    withNamespace: (ns) => bindClient(channel, address, ns, timeoutMs),
    service,
    version: async (o) => {
      const res = await version.version({}, o);
      return { version: res.version, revision: res.revision };
    },
    server: async (o) => {
      const res = await introspection.server({}, o);
      return { uuid: res.uuid, pid: Number(res.pid) };
    },
    plugins: async (filters = [], o) => {
      const res = await introspection.plugins({ filters: [...filters] }, o);
      return res.plugins.map(toPluginInfo);
    },
    publish: async (topic, event, o) => {
      await events.publish({ topic, event: { typeUrl: event.typeUrl, value: event.value } }, o);
    },
    subscribe: (filters, signal) => subscribe(events, filters, signal),
    pull: (ref, o) => pullImage(service, ref, o),
    close: () => channel.close(),
  };
}

async function* subscribe(events: ServiceClient<typeof eventsApi.Events>, filters: readonly string[], signal: AbortSignal): AsyncIterable<Envelope> {
  for await (const env of events.subscribe({ filters: [...filters] }, { signal })) {
    yield {
      timestamp: env.timestamp ? timestampDate(env.timestamp) : new Date(0),
      namespace: env.namespace,
      topic: env.topic,
      event: { typeUrl: env.event?.typeUrl ?? "", value: env.event?.value ?? new Uint8Array() },
    };
  }
}

// ctr calls a plugin skipped when its init error mentions "skip plugin".
function toPluginInfo(p: introspectionApi.Plugin): PluginInfo {
  const error = p.initErr?.message;
  return {
    type: p.type,
    id: p.id,
    requires: p.requires,
    platforms: p.platforms.map((x) => ({ os: x.os, architecture: x.architecture, variant: x.variant })),
    exports: p.exports,
    capabilities: p.capabilities,
    status: error === undefined ? "ok" : error.includes("skip plugin") ? "skip" : "error",
    error,
  };
}
