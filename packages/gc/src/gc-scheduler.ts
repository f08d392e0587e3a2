import {
  canceled,
  silentLogger,
  unavailable,
  type CollectOptions,
  type CollectionStats,
  type GcScheduler,
  type Logger,
  type MetadataCollector,
  type Publisher,
} from "@berth/core";
import { publishRemovals } from "./gc-events.js";
import { GcMetricsRecorder } from "./gc-metrics.js";
import { clampConfig, DEFAULT_SCHEDULER_CONFIG, type SchedulerConfig } from "./scheduler-config.js";

/** containerd's floor for the average collection time, so a fast collector is not run back to back. */
const MIN_GC_MS = 5;
/** The interval before any collection has set the pace. */
const INITIAL_INTERVAL_MS = 1000;

export interface GcSchedulerOptions {
  readonly log?: Logger;
  /** Where the images and snapshots collections remove are announced (gc-events.ts); none: not announced. */
  readonly publisher?: Publisher | undefined;
}

export interface GcSchedulerHandle extends GcScheduler {
  /** Stops scheduling, waits for a running collection; waiting callers get Unavailable. */
  close(): Promise<void>;
}

interface Waiter {
  resolve(stats: CollectionStats): void;
  reject(err: unknown): void;
}

/**
 * containerd's garbage collection scheduler over a metadata collector. Collections are spaced
 * so that their average metadata time stays near `pauseThreshold` of real time; a deletion
 * brings the next one forward (at once with `deletionThreshold` deletions, else at the next
 * scheduled time), enough mutations make a scheduled one run rather than be skipped, and
 * `collect()` triggers one and waits for it. A collection requested while one runs gets the
 * next one, which starts after the request: what it waits for has seen the caller's deletion.
 */
export function createGcScheduler(
  collector: MetadataCollector,
  config: SchedulerConfig = DEFAULT_SCHEDULER_CONFIG,
  opts: GcSchedulerOptions = {},
): GcSchedulerHandle {
  const cfg = clampConfig(config);
  const log = opts.log ?? silentLogger;
  const metrics = new GcMetricsRecorder();

  let timer: NodeJS.Timeout | undefined;
  /** When the timer fires (ms, performance clock); undefined while nothing is scheduled. */
  let nextAt: number | undefined;
  let collected = false;
  let interval = INITIAL_INTERVAL_MS;
  let gcTimeSum = 0;
  let collections = 0;
  // What happened since the running or last collection started.
  let triggered = false;
  let deletions = 0;
  let mutations = 0;
  let running: Promise<void> | undefined;
  let waiters: Waiter[] = [];
  let closed = false;

  function schedule(delayMs: number): void {
    clearTimeout(timer);
    nextAt = performance.now() + delayMs;
    timer = setTimeout(fire, delayMs);
    // The daemon's server keeps the process alive; a pending collection alone should not.
    timer.unref();
  }

  /** containerd's rule for "collect soon" rather than "at the next scheduled time". */
  function urgent(): boolean {
    if (triggered) return true;
    if (cfg.deletionThreshold > 0 && deletions >= cfg.deletionThreshold) return true;
    if (nextAt !== undefined) return false;
    return (cfg.deletionThreshold === 0 && deletions > 0) || (cfg.mutationThreshold > 0 && mutations >= cfg.mutationThreshold);
  }

  function scheduleIfUrgent(): void {
    if (!urgent()) return;
    if (nextAt === undefined || nextAt > performance.now() + cfg.scheduleDelay) schedule(cfg.scheduleDelay);
  }

  function event(mutation: boolean, dirty: boolean): void {
    if (closed) return;
    if (dirty) deletions++;
    if (mutation) mutations++;
    else triggered = true;
    // While a collection runs, the end of it decides (these count towards the next one).
    if (!running) scheduleIfUrgent();
  }

  function fire(): void {
    timer = undefined;
    nextAt = undefined;
    if (closed || running) return;
    const needed = triggered || !collected || deletions > 0 || (cfg.mutationThreshold > 0 && mutations >= cfg.mutationThreshold);
    if (!needed) {
      schedule(interval);
      return;
    }
    running = run().finally(() => (running = undefined));
  }

  async function run(): Promise<void> {
    const batch = waiters;
    waiters = [];
    triggered = false;
    deletions = 0;
    mutations = 0;
    let delay: number;
    try {
      const stats = await collector.collect();
      metrics.succeeded(stats);
      gcTimeSum += stats.metadataMs;
      collections++;
      if (cfg.pauseThreshold > 0) {
        const avg = Math.max(gcTimeSum / collections, MIN_GC_MS);
        interval = avg / cfg.pauseThreshold - avg;
      }
      log.debug("garbage collected", { ms: stats.metadataMs, pauseMs: stats.pauseMs, nextInMs: Math.round(interval) });
      // Announced before waiters hear back, so a synchronous delete's caller can count on the events.
      if (opts.publisher && stats.removedObjects) await publishRemovals(opts.publisher, stats.removedObjects, log);
      for (const w of batch) w.resolve(stats);
      delay = interval;
    } catch (err) {
      metrics.failed();
      log.error("garbage collection failed", { error: err });
      for (const w of batch) w.reject(err);
      delay = collected ? interval + 1000 : cfg.scheduleDelay;
    }
    collected = true;
    if (closed) return;
    schedule(delay);
    scheduleIfUrgent();
  }

  const unsubscribe = collector.onMutation((dirty) => event(true, dirty));
  if (cfg.startupDelay > 0) schedule(cfg.startupDelay);

  return {
    collect(opts: CollectOptions = {}): Promise<CollectionStats> {
      if (closed) return Promise.reject(unavailable("garbage collection scheduler is closed"));
      const { signal } = opts;
      if (signal?.aborted) return Promise.reject(canceled("garbage collection wait canceled", signal.reason));
      return new Promise<CollectionStats>((resolve, reject) => {
        const onAbort = () => {
          waiters = waiters.filter((w) => w !== waiter);
          reject(canceled("garbage collection wait canceled", signal?.reason));
        };
        const waiter: Waiter = {
          resolve: (stats) => {
            signal?.removeEventListener("abort", onAbort);
            resolve(stats);
          },
          reject: (err) => {
            signal?.removeEventListener("abort", onAbort);
            reject(err);
          },
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        waiters.push(waiter);
        event(false, false);
      });
    },

    metrics: () => metrics.snapshot(),

    async close() {
      closed = true;
      clearTimeout(timer);
      unsubscribe();
      await running;
      const left = waiters;
      waiters = [];
      for (const w of left) w.reject(unavailable("garbage collection scheduler closed"));
    },
  };
}
