import type { GcMetrics, GcScheduler } from "@berth/core";
import type { MetricsRegistry } from "./registry.js";

type Sample = [Readonly<Record<string, string>>, number];

/**
 * Garbage collection figures, read from the loaded schedulers at scrape time, under
 * containerd's names where it has them (containerd_gc_*) and Berth's for the rest.
 */
export function registerGcMetrics(registry: MetricsRegistry, schedulers: () => Iterable<GcScheduler>): void {
  const each = (read: (m: GcMetrics) => Sample[]) => () => [...schedulers()].flatMap((s) => read(s.metrics()));
  registry.gauge(
    "containerd_gc_collections",
    "Garbage collections run, by outcome.",
    each((m) => [
      [{ status: "success" }, m.collections.success],
      [{ status: "fail" }, m.collections.fail],
    ]),
  );
  registry.gauge("containerd_gc_gc_seconds_sum", "Total seconds spent in metadata collection.", each((m) => [[{}, m.seconds.sum]]));
  registry.gauge("containerd_gc_gc_seconds_count", "Metadata collections timed.", each((m) => [[{}, m.seconds.count]]));
  registry.gauge("berth_gc_last_pause_seconds", "How long the last collection held the metadata write lock.", each((m) => [[{}, m.lastPauseMs / 1000]]));
  registry.gauge(
    "berth_gc_removed",
    "Objects removed by garbage collection since start: metadata records and backend data, by kind.",
    each((m) => [
      ...Object.entries(m.removed).map(([kind, n]): Sample => [{ kind: `record_${kind}` }, n]),
      ...Object.entries(m.reclaimed).map(([kind, n]): Sample => [{ kind: `backend_${kind}` }, n]),
    ]),
  );
}
