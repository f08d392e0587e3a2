import type { CallContext, Differ, Logger, MetadataStore, OpContext, StreamManager } from "@berth/core";
import { requireNamespace } from "@berth/core";

export interface TransferServiceDeps {
  readonly metadata: MetadataStore;
  readonly streams: StreamManager;
  /** The differ that unpacks layers. */
  readonly differ: Differ;
  /** Whether the snapshotter named so takes a parent at commit (see UnpackTarget.rebase). */
  readonly canRebase?: ((snapshotter: string) => boolean) | undefined;
  readonly log: Logger;
}

/** The store context of a Transfer call: its namespace, the client's lease if any, its cancellation. */
export function opContextOf(call: CallContext): OpContext {
  return { namespace: requireNamespace(call), lease: call.metadata.get("containerd-lease")?.[0], signal: call.signal };
}
