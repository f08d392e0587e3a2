import { join } from "node:path";
import type { criApi } from "@berth/api";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { opContext, snapshotterOf, taskRuntime, type ContainerContext } from "./container-context.js";
import type { ContainerEntry } from "./container-store.js";
import { decodeTaskUsage } from "./task-metrics.js";

type ContainerStatsInit = MessageInitShape<typeof criApi.ContainerStatsSchema>;

/**
 * A container's stats: CPU and memory from its task's cgroup metrics (none when it does not
 * run), and the writable layer's usage from the snapshotter.
 */
export async function containerStats(c: ContainerContext, entry: ContainerEntry, signal?: AbortSignal): Promise<ContainerStatsInit> {
  const { record } = entry;
  const ctx = opContext(signal);
  const now = c.clock.now();
  const out: ContainerStatsInit = {
    attributes: { id: record.id, metadata: record.config.metadata, labels: { ...record.config.labels }, annotations: { ...record.config.annotations } },
  };
  if (record.status.state === "running" && c.base.runtime !== undefined) {
    const metrics = await taskRuntime(c)
      .get(ctx, record.id)
      .then((t) => t.stats(signal))
      .catch(() => undefined);
    const usage = metrics && decodeTaskUsage(metrics);
    if (usage !== undefined) {
      out.cpu = { timestamp: now, usageCoreNanoSeconds: { value: usage.cpuNanos } };
      out.memory = {
        timestamp: now,
        workingSetBytes: { value: usage.workingSet },
        usageBytes: { value: usage.memoryUsage },
        rssBytes: { value: usage.rss },
        pageFaults: { value: usage.pageFaults },
        majorPageFaults: { value: usage.majorPageFaults },
      };
    }
  }
  const layer = await snapshotterOf(c, record.snapshotter)
    .usage(ctx, record.id)
    .catch(() => undefined);
  if (layer !== undefined) {
    out.writableLayer = {
      timestamp: now,
      fsId: { mountpoint: join(c.base.daemon.root, `io.containerd.snapshotter.v1.${record.snapshotter}`) },
      usedBytes: { value: BigInt(layer.size) },
      inodesUsed: { value: BigInt(layer.inodes) },
    };
  }
  return out;
}
