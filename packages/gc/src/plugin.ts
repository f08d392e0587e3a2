import { EventPlugin, GcPlugin, MetadataPlugin, definePlugin, failedPrecondition, optional } from "@berth/core";
import { createGcScheduler } from "./gc-scheduler.js";
import { schedulerConfig } from "./scheduler-config.js";

/**
 * io.containerd.gc.v1.scheduler: schedules the metadata store's garbage collections, as
 * containerd's plugin of that name, with its settings (scheduler-config.ts). Services that
 * delete with `sync` (images, leases) wait on its `collect()`. With an event exchange loaded, the
 * images and snapshots collections remove are announced there, as containerd does.
 */
export const gcSchedulerPlugin = definePlugin({
  type: GcPlugin,
  id: "scheduler",
  requires: [MetadataPlugin, optional(EventPlugin)],
  config: schedulerConfig,
  init: (ctx, config) => {
    const metadata = ctx.single(MetadataPlugin);
    if (!metadata.collector) throw failedPrecondition("the loaded metadata store offers no garbage collector");
    const publisher = ctx.all(EventPlugin).values().next().value;
    const scheduler = createGcScheduler(metadata.collector, config, { log: ctx.log, publisher });
    // containerd exports the settings in effect, for `ctr plugins ls -d`.
    Object.assign(ctx.meta.exports, {
      PauseThreshold: String(config.pauseThreshold),
      DeletionThreshold: String(config.deletionThreshold),
      MutationThreshold: String(config.mutationThreshold),
      ScheduleDelay: `${config.scheduleDelay}ms`,
    });
    ctx.onClose(() => scheduler.close());
    return scheduler;
  },
});
