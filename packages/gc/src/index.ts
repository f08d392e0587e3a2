/**
 * @berth/gc: containerd's garbage collection scheduler (io.containerd.gc.v1.scheduler) over the
 * metadata store's collector, which does the marking and sweeping (@berth/metadata-lmdb).
 */
export { createGcScheduler } from "./gc-scheduler.js";
export type { GcSchedulerHandle, GcSchedulerOptions } from "./gc-scheduler.js";
export { schedulerConfig, clampConfig, DEFAULT_SCHEDULER_CONFIG, type SchedulerConfig } from "./scheduler-config.js";
export { GcMetricsRecorder } from "./gc-metrics.js";
export { gcSchedulerPlugin } from "./plugin.js";
export { publishRemovals } from "./gc-events.js";
