import { join } from "node:path";
import { createStreamingServer, type StreamingServer } from "@berth/cri-streaming";
import { failedPrecondition, isAlreadyExists, type Differ, type Exchange, type GrpcService, type Logger, type MetadataStore, type PlatformRuntime } from "@berth/core";
import { validateCriConfig, type CriConfig } from "./config/cri-config.js";
import { createContainerPart } from "./container/create-container-part.js";
import type { CriBase } from "./cri-base.js";
import { createCriImages } from "./image/cri-images.js";
import { createImageCatalog } from "./image/image-catalog.js";
import { normalizeImageRef } from "./image/image-reference.js";
import { imageServiceBinding } from "./image/image-service.js";
import { cniConfigReadiness } from "./runtime/network-readiness.js";
import { runtimeServiceBinding } from "./runtime/runtime-service.js";
import { SANDBOX_METHODS, type SandboxController, type SandboxLookup } from "./runtime/sandbox-controller.js";
import { createSandboxPart } from "./sandbox/create-sandbox-part.js";
import { createStreamingHandlers, lateBoundHandlers } from "./streaming/streaming-handlers.js";
import { createCriState } from "./state/cri-state.js";
import { K8S_NAMESPACE } from "./state/k8s-namespace.js";

export interface CriServiceDeps {
  readonly config: CriConfig;
  readonly metadata: MetadataStore;
  readonly events: Exchange;
  readonly differ: Differ;
  /** Whether a snapshotter takes a parent at commit: pulls then apply layers side by side. */
  readonly canRebase?: ((snapshotter: string) => boolean) | undefined;
  readonly runtime: PlatformRuntime | undefined;
  readonly rootDir: string;
  readonly stateDir: string;
  readonly daemon: CriBase["daemon"];
  readonly log: Logger;
  readonly signal: AbortSignal;
}

export interface CriService extends GrpcService {
  readonly base: CriBase;
  close(): Promise<void>;
}

/**
 * The CRI: shared state and images first, then the sandbox part, then the container part
 * (which looks pods up through the sandbox part), then both gRPC services on top.
 */
export async function createCriService(deps: CriServiceDeps): Promise<CriService> {
  const { config, metadata } = deps;
  validateCriConfig(config);
  await ensureNamespace(metadata);
  const catalog = createImageCatalog(metadata);
  const snapshotter = config.containerd.snapshotter;
  const images = createCriImages({
    metadata,
    catalog,
    differ: deps.differ,
    canRebase: deps.canRebase?.(snapshotter) === true,
    snapshotter,
    snapshotterRoot: join(deps.daemon.root, `io.containerd.snapshotter.v1.${snapshotter}`),
    hostsDir: config.registry.configPath,
    headers: config.registry.headers,
    pinned: pinnedNames(config),
    log: deps.log,
  });
  const base: CriBase = {
    config,
    metadata,
    events: deps.events,
    runtime: deps.runtime,
    images,
    state: createCriState(),
    rootDir: deps.rootDir,
    stateDir: deps.stateDir,
    daemon: deps.daemon,
    log: deps.log,
    signal: deps.signal,
  };
  const sandboxes = createSandboxPart(base);
  // The streaming server first (its address is in the URLs Exec/Attach/PortForward return);
  // its handlers are bound once the container part exists.
  const late = lateBoundHandlers();
  const streaming = await createStreamingServer({
    address: config.streamServerAddress,
    port: Number(config.streamServerPort),
    handlers: late.handlers,
    streamIdleTimeoutMs: config.streamIdleTimeout,
    logger: deps.log,
  });
  const containers = createContainerPart(base, sandboxes.lookup, {
    exec: (req) => streaming.getExecUrl(req),
    attach: (req) => streaming.getAttachUrl(req),
    portForward: (req) => streaming.getPortForwardUrl(req),
  });
  late.bind(createStreamingHandlers(containers.context, sandboxes.lookup));
  try {
    await sandboxes.recover?.();
    await containers.recover?.();
  } catch (err) {
    await streaming.close();
    throw err;
  }
  const runtimeBinding = runtimeServiceBinding({
    config,
    settings: base.state.settings,
    sandboxes: withPortForward(sandboxes.controller, sandboxes.lookup, streaming),
    containers: containers.controller,
    network: sandboxes.network ?? cniConfigReadiness(config.cni.confDir),
  });
  return {
    base,
    bindings: [runtimeBinding, imageServiceBinding(images)],
    async close() {
      await streaming.close();
      await containers.close?.();
      await sandboxes.close?.();
    },
  };
}

/** The sandbox controller with PortForward answered here: a URL on the streaming server for the pod. */
function withPortForward(controller: SandboxController, lookup: SandboxLookup, streaming: StreamingServer): SandboxController {
  const out = {} as Record<string, unknown>;
  for (const name of SANDBOX_METHODS) out[name] = (controller[name] as (...a: unknown[]) => unknown).bind(controller);
  const portForward: SandboxController["portForward"] = async (request) => {
    const pod = lookup.sandbox(request.podSandboxId);
    if (pod.state !== "ready") throw failedPrecondition(`sandbox ${pod.id} is not ready`);
    return { url: streaming.getPortForwardUrl({ podSandboxId: pod.id, port: request.port }) };
  };
  out["portForward"] = portForward;
  return out as unknown as SandboxController;
}

/** containerd's CRI creates its namespace at start, so `ctr namespaces ls` shows it before any pull. */
async function ensureNamespace(metadata: MetadataStore): Promise<void> {
  try {
    await metadata.namespaces.create(K8S_NAMESPACE, {});
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

/** The sandbox image and the configured pinned images, normalised; malformed ones are left out. */
function pinnedNames(config: CriConfig): Set<string> {
  const names = new Set<string>();
  for (const ref of [config.sandboxImage, ...config.pinnedImages]) {
    try {
      names.add(normalizeImageRef(ref).name);
    } catch {
      // validateCriConfig reports the sandbox image; a bad pinned entry only pins nothing.
    }
  }
  return names;
}


