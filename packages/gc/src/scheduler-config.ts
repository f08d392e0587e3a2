import { field, type FieldSpec } from "@berth/core";

/** Any finite number, integer or float (TOML's 0.02, or 1); the scheduler clamps it. */
const number = (def: number): FieldSpec<number> => ({
  default: def,
  expected: "a number",
  decode: (v) => {
    const n = typeof v === "bigint" ? Number(v) : v;
    return typeof n === "number" && Number.isFinite(n) ? n : undefined;
  },
});

/**
 * containerd's scheduler settings, same names, defaults and clamping (see clampConfig):
 *
 *   [plugins."io.containerd.gc.v1.scheduler"]
 *     pause_threshold = 0.02     # collections may take at most this share of real time
 *     deletion_threshold = 0     # collect as soon as this many deletions happened; 0: at the next scheduled time
 *     mutation_threshold = 100   # collect at the next scheduled time once this many mutations happened; 0: never for mutations
 *     schedule_delay = "0ms"     # how long after a trigger a collection starts
 *     startup_delay = "100ms"    # the first collection after start
 */
export const schedulerConfig = {
  pauseThreshold: number(0.02),
  deletionThreshold: field.integer(0),
  mutationThreshold: field.integer(100),
  scheduleDelay: field.duration(0),
  startupDelay: field.duration(100),
};

export interface SchedulerConfig {
  readonly pauseThreshold: number;
  readonly deletionThreshold: number;
  readonly mutationThreshold: number;
  /** Milliseconds. */
  readonly scheduleDelay: number;
  /** Milliseconds. */
  readonly startupDelay: number;
}

export const DEFAULT_SCHEDULER_CONFIG: SchedulerConfig = {
  pauseThreshold: 0.02,
  deletionThreshold: 0,
  mutationThreshold: 100,
  scheduleDelay: 0,
  startupDelay: 100,
};

/** containerd's limits: pause threshold within [0, 0.5] (more would over-schedule), no negative counts or delays. */
export function clampConfig(config: SchedulerConfig): SchedulerConfig {
  return {
    pauseThreshold: Math.min(Math.max(config.pauseThreshold, 0), 0.5),
    deletionThreshold: Math.max(config.deletionThreshold, 0),
    mutationThreshold: Math.max(config.mutationThreshold, 0),
    scheduleDelay: Math.max(config.scheduleDelay, 0),
    startupDelay: Math.max(config.startupDelay, 0),
  };
}
