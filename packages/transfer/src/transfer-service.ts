import { packAny, transferApi, transferTypes, unpackAny, type AnyPayload } from "@berth/api";
import {
  bindService,
  invalidArgument,
  notImplemented,
  requireNamespace,
  type CallContext,
  type Differ,
  type GrpcService,
  type Logger,
  type MetadataStore,
  type OpContext,
  type StreamManager,
} from "@berth/core";
import { createResolver, type Credentials } from "@berth/distribution";
import { normalizePlatform } from "./platforms.js";
import { progressSender } from "./progress-stream.js";
import { pullImage } from "./pull.js";
import { registrySource } from "./registry-source.js";
import type { UnpackTarget } from "./unpack.js";

export interface TransferServiceDeps {
  readonly metadata: MetadataStore;
  readonly streams: StreamManager;
  /** The differ that unpacks layers. */
  readonly differ: Differ;
  readonly log: Logger;
}

/**
 * containerd.services.transfer.v1.Transfer: what moves where is told by the Any types of source
 * and destination. Berth serves registry → image store (pull); the rest is NotImplemented.
 */
export function createTransferService(deps: TransferServiceDeps): GrpcService {
  return {
    bindings: [
      bindService(transferApi.Transfer, {
        async transfer(req, ctx) {
          const source = req.source && unpackAny(transferTypes.OCIRegistrySchema, req.source);
          const destination = req.destination && unpackAny(transferTypes.ImageStoreSchema, req.destination);
          if (source !== undefined && destination !== undefined) {
            await pullFromRegistry(deps, ctx, source, destination, req.options?.progressStream ?? "");
            return {};
          }
          throw notImplemented(`transfer from ${req.source?.typeUrl ?? "nothing"} to ${req.destination?.typeUrl ?? "nothing"} is not supported`);
        },
      }),
    ],
  };
}

async function pullFromRegistry(
  deps: TransferServiceDeps,
  call: CallContext,
  source: transferTypes.OCIRegistry,
  destination: transferTypes.ImageStore,
  progressStream: string,
): Promise<void> {
  const namespace = requireNamespace(call);
  const ctx: OpContext = { namespace, lease: call.metadata.get("containerd-lease")?.[0], signal: call.signal };
  const progress = progressStream === "" ? undefined : progressSender(deps.streams.get(namespace, progressStream));
  const resolverOpts = source.resolver;
  const resolver = createResolver({
    hostsDir: resolverOpts?.hostDir || undefined,
    plainHttp: resolverOpts?.defaultScheme === "http",
    headers: resolverOpts?.headers,
    credentials: resolverOpts?.authStream ? askClientForCredentials(deps.streams.get(namespace, resolverOpts.authStream), source.reference, call.signal) : undefined,
    logger: deps.log,
  });
  try {
    // The events and names containerd's transfer service reports, so its clients print the same.
    progress?.event(`Resolving from ${source.reference}`);
    const platforms = destination.platforms.map((p) => normalizePlatform({ os: p.os, architecture: p.architecture, variant: p.variant }));
    const result = await pullImage(deps.metadata, ctx, withName(registrySource(resolver, source.reference), destination.name), {
      platform: destination.allMetadata ? "all" : platforms[0],
      unpack: unpackTarget(deps, destination.unpacks[0]),
      labels: destination.labels,
      onProgress: progress ? (p) => progress.blob(p) : undefined,
    });
    progress?.event("saved", result.image.name);
    progress?.event(`Completed pull from ${source.reference}`);
  } finally {
    await progress?.flush();
    await resolver.close();
  }
}

function withName(source: ReturnType<typeof registrySource>, name: string): ReturnType<typeof registrySource> {
  if (name === "") return source;
  return { ...source, resolve: async (signal) => ({ ...(await source.resolve(signal)), name }) };
}

function unpackTarget(deps: TransferServiceDeps, config: transferTypes.UnpackConfiguration | undefined): UnpackTarget | undefined {
  if (config === undefined) return undefined;
  const name = config.snapshotter === "" ? "overlayfs" : config.snapshotter;
  const snapshotter = deps.metadata.snapshotters.get(name);
  if (snapshotter === undefined) throw invalidArgument(`snapshotter not loaded: ${name}`);
  return { name, snapshotter, differ: deps.differ };
}

/** Credentials through the client's auth stream: one AuthRequest per challenge, as containerd asks. */
function askClientForCredentials(stream: ReturnType<StreamManager["get"]>, reference: string, signal: AbortSignal) {
  return async (host: string): Promise<Credentials | undefined> => {
    await stream.send(packAny(transferTypes.AuthRequestSchema, { host, reference }));
    const answer: AnyPayload = await stream.recv(signal);
    const auth = unpackAny(transferTypes.AuthResponseSchema, answer);
    if (auth === undefined || auth.authType === transferTypes.AuthType.NONE) return undefined;
    return { username: auth.username, password: auth.secret };
  };
}

