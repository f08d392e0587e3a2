import type { CollectionStats, GcMetrics, RemovedBackendData, RemovedRecords } from "@berth/core";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Running totals of a scheduler's collections (containerd: containerd_gc_collections, containerd_gc_gc_seconds). */
export class GcMetricsRecorder {
  readonly #collections = { success: 0, fail: 0 };
  readonly #seconds = { sum: 0, count: 0, last: 0 };
  #lastPauseMs = 0;
  readonly #removed: Mutable<RemovedRecords> = { images: 0, leases: 0, content: 0, ingests: 0, snapshots: 0 };
  readonly #reclaimed: Mutable<RemovedBackendData> = { blobs: 0, ingests: 0, snapshots: 0 };

  succeeded(stats: CollectionStats): void {
    this.#collections.success++;
    const seconds = stats.metadataMs / 1000;
    this.#seconds.sum += seconds;
    this.#seconds.count++;
    this.#seconds.last = seconds;
    this.#lastPauseMs = stats.pauseMs;
    for (const k of Object.keys(this.#removed) as (keyof RemovedRecords)[]) this.#removed[k] += stats.records[k];
    for (const k of Object.keys(this.#reclaimed) as (keyof RemovedBackendData)[]) this.#reclaimed[k] += stats.backend[k];
  }

  failed(): void {
    this.#collections.fail++;
  }

  snapshot(): GcMetrics {
    return {
      collections: { ...this.#collections },
      seconds: { ...this.#seconds },
      lastPauseMs: this.#lastPauseMs,
      removed: { ...this.#removed },
      reclaimed: { ...this.#reclaimed },
    };
  }
}
