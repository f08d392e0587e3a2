// berthd imports this module and loads every registration it exports: export each one once.
import { dirname, isAbsolute, join } from "node:path";
import { EventPlugin, MetadataPlugin, RuntimePlugin, definePlugin, field } from "@berth/core";
import { GROUP_LINGER_MS } from "./berth-shim-groups.js";
import { writeBuiltinShims } from "./builtin-shims.js";
import { defaultPublishBinary } from "./publish-binary.js";
import { ShimResolver, pathDirs } from "./shim-binary-path.js";
import { createShimManager } from "./shim-manager.js";

/**
 * Berth's own shim (containerd-shim-berth-v2): one process per namespace, no process started
 * for a namespace's next container. `io.containerd.runc.v2` (Debian's Go shim) stays one
 * `--runtime` or `default_runtime` away.
 */
export const DEFAULT_RUNTIME = "io.containerd.berth.v2";

/**
 * io.containerd.runtime.v2.task: the shim manager. Tasks run under v2 shims found by runtime
 * name; after a restart the plugin reconnects to every shim whose bundle it finds before it
 * reports loaded.
 *
 *   [plugins."io.containerd.runtime.v2.task"]
 *     default_runtime = "io.containerd.berth.v2"  # for requests that name no runtime
 *     publish_binary = ""                          # what shims run to publish events; "" = this berthd
 *     env = []                                     # extra KEY=value for every shim
 *     group_linger = "10s"                         # how long an idle Berth group shim is kept
 *
 * Berth's own shim (containerd-shim-berth-v2) is found on PATH like any other, and otherwise
 * in its package through a launcher the plugin writes to `<state>/.bin`.
 */
export const runtimeV2TaskPlugin = definePlugin({
  type: RuntimePlugin,
  id: "task",
  requires: [MetadataPlugin, EventPlugin],
  config: {
    defaultRuntime: field.string(DEFAULT_RUNTIME),
    publishBinary: field.string(""),
    env: field.stringArray([]),
    groupLinger: field.duration(GROUP_LINGER_MS),
  },
  async init(ctx, config) {
    const metadata = ctx.single(MetadataPlugin);
    const publishBinary = config.publishBinary || defaultPublishBinary();
    const resolver = new ShimResolver({
      searchPath: pathDirs(process.env["PATH"]),
      besideDaemon: isAbsolute(publishBinary) ? dirname(publishBinary) : undefined,
      // A hidden directory: the state dir's visible ones are namespaces of bundles.
      builtin: await writeBuiltinShims(join(ctx.stateDir, ".bin")),
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
      groupLingerMs: config.groupLinger,
    });
    ctx.onClose(() => manager.close());
    const report = await manager.loadExisting();
    if (report.loaded.length + report.cleaned.length > 0) ctx.log.info("reloaded shims", { running: report.loaded, cleaned: report.cleaned });
    ctx.meta.exports["default_runtime"] = config.defaultRuntime;
    return manager;
  },
});
