import { introspectionApi } from "@berth/api";
import { GrpcPlugin, bindService, definePlugin, notFound, parseFilters, toGrpcStatus, type PluginStatus } from "@berth/core";
import { create } from "@bufbuild/protobuf";
import { loadServerUuid } from "./server-info.js";

type PluginMessage = introspectionApi.Plugin;

/**
 * io.containerd.grpc.v1.introspection: every plugin with its status and init error, and the
 * server's identity. It reads statuses live at each call, so it lists plugins that load
 * after it too.
 */
export const introspectionPlugin = definePlugin({
  type: GrpcPlugin,
  id: "introspection",
  async init(ctx) {
    const uuid = await loadServerUuid(ctx.rootDir);
    return {
      bindings: [
        bindService(introspectionApi.Introspection, {
          async plugins(req) {
            const filter = parseFilters(req.filters);
            return { plugins: ctx.statuses().map(toPluginMessage).filter((p) => filter.match(pluginFields(p))) };
          },
          async server() {
            return { uuid, pid: BigInt(process.pid), pidns: 0n, deprecations: [] };
          },
          async pluginInfo(req) {
            const status = ctx.statuses().find((s) => s.type === req.type && s.id === req.id);
            if (!status) throw notFound(`plugin ${req.type}.${req.id} not found`);
            return { plugin: toPluginMessage(status) };
          },
        }),
      ],
    };
  },
});

function toPluginMessage(status: PluginStatus): PluginMessage {
  return create(introspectionApi.PluginSchema, {
    type: status.type,
    id: status.id,
    requires: [...status.requires],
    platforms: status.meta.platforms.map((p) => ({ os: p.os, architecture: p.architecture, variant: p.variant ?? "" })),
    exports: status.meta.exports,
    capabilities: [...status.meta.capabilities],
    initErr: status.error ? { code: toGrpcStatus(status.error).code, message: status.error.message } : undefined,
  });
}

// Filter fields as containerd's introspection adaptor names them.
function pluginFields(p: PluginMessage) {
  return (path: readonly string[]): string | undefined => {
    switch (path[0]) {
      case "type":
        return p.type;
      case "id":
        return p.id;
      case "capabilities":
        return p.capabilities.length > 0 ? p.capabilities.join(",") : undefined;
      case "platforms":
        return p.platforms.length > 0 ? p.platforms.map((x) => `${x.os}/${x.architecture}`).join(",") : undefined;
      default:
        return undefined;
    }
  };
}
