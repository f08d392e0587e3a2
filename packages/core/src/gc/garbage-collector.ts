/**
 * Garbage collection, as containerd's: a collector marks what metadata roots reach (images,
 * containers, leases, objects labelled `containerd.io/gc.root`, …) and sweeps the rest, first
 * from metadata, then from the backends (content blobs, ingests, snapshots). A scheduler
 * (io.containerd.gc.v1) decides when, from the store's mutations and from explicit requests.
 */

/** Metadata records one collection removed, counted across namespaces. */
export interface RemovedRecords {
  readonly images: number;
  readonly leases: number;
  /** A namespace's ownership of a blob. */
  readonly content: number;
  readonly ingests: number;
  readonly snapshots: number;
}

/** What one collection removed from the backends once no namespace referred to it. */
export interface RemovedBackendData {
  readonly blobs: number;
  readonly ingests: number;
  readonly snapshots: number;
}

/**
 * The images and snapshots a collection removed: what containerd announces, as /images/delete
 * and /snapshot/remove in the removed object's namespace (no content, lease or ingest events).
 */
export interface RemovedObjects {
  readonly images: readonly { readonly namespace: string; readonly name: string }[];
  readonly snapshots: readonly { readonly namespace: string; readonly snapshotter: string; readonly key: string }[];
}

export interface CollectionStats {
  readonly records: RemovedRecords;
  /** What the scheduler announces; a collector that does not report it gets no events published. */
  readonly removedObjects?: RemovedObjects | undefined;
  readonly backend: RemovedBackendData;
  /** Start to finish, backend removals included. */
  readonly durationMs: number;
  /** Mark and sweep of metadata: containerd's `Elapsed`, what a scheduler's pause threshold is measured against. */
  readonly metadataMs: number;
  /**
   * The longest stretch the collection kept the process from serving metadata calls: its
   * sweep transaction, or its longest marking slice if that was longer.
   */
  readonly pauseMs: number;
}

export interface CollectOptions {
  /** Stops waiting; a collection already sweeping still finishes. */
  readonly signal?: AbortSignal | undefined;
}

/** Runs (or schedules and waits for) one full collection. */
export interface GarbageCollector {
  collect(opts?: CollectOptions): Promise<CollectionStats>;
}

/**
 * What a metadata store that can be collected offers a scheduler: a collection, and a signal
 * after every committed mutation (containerd's RegisterMutationCallback). `dirty` is true when
 * something was deleted since the last collection.
 */
export interface MetadataCollector extends GarbageCollector {
  /** Calls `listener` after each committed mutation; returns the call that stops it. */
  onMutation(listener: (dirty: boolean) => void): () => void;
}

/** Running totals a scheduler keeps, for metrics (containerd_gc_collections, containerd_gc_gc_seconds). */
export interface GcMetrics {
  readonly collections: { readonly success: number; readonly fail: number };
  /** Sum and count of the collections' metadata times, in seconds, and the last one. */
  readonly seconds: { readonly sum: number; readonly count: number; readonly last: number };
  readonly lastPauseMs: number;
  readonly removed: RemovedRecords;
  readonly reclaimed: RemovedBackendData;
}

/** What io.containerd.gc.v1 plugins provide. */
export interface GcScheduler extends GarbageCollector {
  /** Totals since the scheduler started. */
  metrics(): GcMetrics;
}
