import * as grpc from "@grpc/grpc-js";
import { eventsApi, introspectionApi, versionApi } from "@berth/api";
import { DEFAULT_ADDRESS, DEFAULT_NAMESPACE, type Envelope, type EventPayload } from "@berth/core";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { createServiceClient, type CallOptions, type ServiceClient } from "./service-client.js";
import type { DescService } from "@bufbuild/protobuf";
import { pullImage, type PullOptions } from "./pull.js";
import { pushImage, type PushOptions } from "./push.js";
import { exportImages, importImages, type ExportOptions, type ImportOptions } from "./image-archive.js";
import { checkImages, type CheckOptions, type ImageCheck } from "./image-check.js";
import { containersApi, tasksApi } from "@berth/api";
import { containerHandle, toContainerRecord, type ContainerHandle, type ContainerRecord } from "./container.js";
import { newContainer, type NewContainerOptions } from "./new-container.js";
import { statusName, type ProcessStatusName } from "./task.js";

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
  /** Pushes the local image `local` (default `ref`) to `ref`, in the daemon (Transfer: image store → registry). */
  push(ref: string, local?: string, opts?: PushOptions): Promise<void>;
  /** Imports an image archive streamed to the daemon (Transfer: import stream → image store). */
  importImages(archive: AsyncIterable<Uint8Array>, opts?: ImportOptions): Promise<void>;
  /** Exports images as an OCI layout tar streamed from the daemon to `sink` (Transfer: image store → export stream). */
  exportImages(names: readonly string[], sink: (chunk: Uint8Array) => Promise<void> | void, opts?: ExportOptions): Promise<void>;
  /** What `ctr images check` reports: content present for the platform, and unpacked or not. */
  checkImages(filters?: readonly string[], opts?: CheckOptions): Promise<ImageCheck[]>;
  /** Creates a container from an unpacked image, as `ctr run` does before starting it. */
  newContainer(id: string, opts: NewContainerOptions): Promise<ContainerHandle>;
  /** An existing container; NotFound if there is none. */
  loadContainer(id: string, opts?: CallOptions): Promise<ContainerHandle>;
  listContainers(filters?: readonly string[], opts?: CallOptions): Promise<ContainerRecord[]>;
  /** Every task in the namespace (init processes). */
  listTasks(opts?: CallOptions): Promise<TaskSummary[]>;
  close(): void;
}

/** A task as the tasks service lists it. */
export interface TaskSummary {
  readonly id: string;
  readonly pid: number;
  readonly status: ProcessStatusName;
  readonly exitStatus: number;
}

export function createClient(opts: ClientOptions = {}): BerthClient {
  const address = opts.address ?? DEFAULT_ADDRESS;
  const target = address.startsWith("/") ? `unix://${address}` : address;
  // 4 MiB HTTP/2 windows, as the daemon's: with the 64 KiB default a 1 MiB message from the
  // daemon (a content read, an export's data) waits for a dozen window updates.
  const channel = new grpc.Client(target, grpc.credentials.createInsecure(), { "grpc-node.flow_control_window": 4 << 20 });
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
    push: (ref, local, o) => pushImage(service, ref, local, o),
    importImages: (archive, o) => importImages(service, archive, o),
    exportImages: (names, sink, o) => exportImages(service, names, sink, o),
    checkImages: (filters = [], o) => checkImages(service, filters, o),
    newContainer: (id, o) => newContainer(service, o.namespace ?? namespace, id, o),
    loadContainer: async (id, o) => {
      await service(containersApi.Containers).get({ id }, o);
      return containerHandle(service, id);
    },
    listContainers: async (filters = [], o) => {
      const res = await service(containersApi.Containers).list({ filters: [...filters] }, o);
      return res.containers.map(toContainerRecord);
    },
    listTasks: async (o) => {
      const res = await service(tasksApi.Tasks).list({}, o);
      return res.tasks.map((t) => ({ id: t.id || t.containerId, pid: t.pid, status: statusName(t.status), exitStatus: t.exitStatus }));
    },
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
