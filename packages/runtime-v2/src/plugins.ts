// berthd imports this module and loads every registration it exports: export each one once.
import { dirname, isAbsolute } from "node:path";
import { EventPlugin, MetadataPlugin, RuntimePlugin, definePlugin, field } from "@berth/core";
import { defaultPublishBinary } from "./publish-binary.js";
import { ShimResolver, pathDirs } from "./shim-binary-path.js";
import { createShimManager } from "./shim-manager.js";

/** Debian's containerd-shim-runc-v2, until Berth's own shim (io.containerd.berth.v2) has proven itself. */
export const DEFAULT_RUNTIME = "io.containerd.runc.v2";

/**
 * io.containerd.runtime.v2.task: the shim manager. Tasks run under v2 shims found by runtime
 * name; after a restart the plugin reconnects to every shim whose bundle it finds before it
 * reports loaded.
 *
 *   [plugins."io.containerd.runtime.v2.task"]
 *     default_runtime = "io.containerd.runc.v2"   # for requests that name no runtime
 *     publish_binary = ""                          # what shims run to publish events; "" = this berthd
 *     env = []                                     # extra KEY=value for every shim
 */
export const runtimeV2TaskPlugin = definePlugin({
  type: RuntimePlugin,
  id: "task",
  requires: [MetadataPlugin, EventPlugin],
  config: {
    defaultRuntime: field.string(DEFAULT_RUNTIME),
    publishBinary: field.string(""),
    env: field.stringArray([]),
  },
  async init(ctx, config) {
    const metadata = ctx.single(MetadataPlugin);
    const publishBinary = config.publishBinary || defaultPublishBinary();
    const resolver = new ShimResolver({
      searchPath: pathDirs(process.env["PATH"]),
      besideDaemon: isAbsolute(publishBinary) ? dirname(publishBinary) : undefined,
    });
    const manager = createShimManager({
      dirs: { state: ctx.stateDir, root: ctx.rootDir },
      grpcAddress: ctx.daemon.grpcAddress,
      ttrpcAddress: ctx.daemon.ttrpcAddress,
      publishBinary,
      defaultRuntime: config.defaultRuntime,
      resolver,
      shimEnv: config.env,
      shimDebug: ctx.log.level === "debug" || ctx.log.level === "trace",
      containers: metadata.containers,
      publisher: ctx.single(EventPlugin),
      log: ctx.log,
    });
    ctx.onClose(() => manager.close());
    const report = await manager.loadExisting();
    if (report.loaded.length + report.cleaned.length > 0) ctx.log.info("reloaded shims", { running: report.loaded, cleaned: report.cleaned });
    ctx.meta.exports["default_runtime"] = config.defaultRuntime;
    return manager;
  },
});
