import { join } from "node:path";
import { isAlreadyExists, type Differ, type Exchange, type GrpcService, type Logger, type MetadataStore, type PlatformRuntime } from "@berth/core";
import { validateCriConfig, type CriConfig } from "./config/cri-config.js";
import { createContainerPart } from "./container/create-container-part.js";
import type { CriBase } from "./cri-base.js";
import { createCriImages } from "./image/cri-images.js";
import { createImageCatalog } from "./image/image-catalog.js";
import { normalizeImageRef } from "./image/image-reference.js";
import { imageServiceBinding } from "./image/image-service.js";
import { cniConfigReadiness } from "./runtime/network-readiness.js";
import { runtimeServiceBinding } from "./runtime/runtime-service.js";
import { createSandboxPart } from "./sandbox/create-sandbox-part.js";
import { createCriState } from "./state/cri-state.js";
import { K8S_NAMESPACE } from "./state/k8s-namespace.js";

export interface CriServiceDeps {
  readonly config: CriConfig;
  readonly metadata: MetadataStore;
  readonly events: Exchange;
  readonly differ: Differ;
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
  const containers = createContainerPart(base, sandboxes.lookup);
  await sandboxes.recover?.();
  await containers.recover?.();
  const runtimeBinding = runtimeServiceBinding({
    config,
    settings: base.state.settings,
    sandboxes: sandboxes.controller,
    containers: containers.controller,
    network: sandboxes.network ?? cniConfigReadiness(config.cni.confDir),
  });
  return {
    base,
    bindings: [runtimeBinding, imageServiceBinding(images)],
    async close() {
      await containers.close?.();
      await sandboxes.close?.();
    },
  };
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


