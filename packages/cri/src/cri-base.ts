import type { Exchange, Logger, MetadataStore, PlatformRuntime } from "@berth/core";
import type { CriConfig } from "./config/cri-config.js";
import type { CriImages } from "./image/cri-images.js";
import type { CriState } from "./state/cri-state.js";

/**
 * What every part of the CRI is built from: the plugin's dependencies and the shared state.
 * Parts receive it whole and keep what they use; none of them holds the others.
 */
export interface CriBase {
  readonly config: CriConfig;
  /** Images, containers, leases, content and snapshotters; use the k8s.io namespace (criOpContext). */
  readonly metadata: MetadataStore;
  readonly events: Exchange;
  /** The task runtime (io.containerd.runtime.v2.task); undefined when none is loaded. */
  readonly runtime: PlatformRuntime | undefined;
  readonly images: CriImages;
  readonly state: CriState;
  /** The plugin's own dirs: `<root>/io.containerd.grpc.v1.cri`, `<state>/io.containerd.grpc.v1.cri`. */
  readonly rootDir: string;
  readonly stateDir: string;
  /** The daemon's gRPC socket (for shims) and roots. */
  readonly daemon: { readonly root: string; readonly state: string; readonly grpcAddress: string; readonly ttrpcAddress: string };
  readonly log: Logger;
  /** Aborted when the daemon shuts down. */
  readonly signal: AbortSignal;
}
