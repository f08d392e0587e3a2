import { proxyPluginsApi } from "@berth/api";
import { GrpcPlugin, bindService, definePlugin, invalidArgument } from "@berth/core";
import { PROXY_TYPES, type ProxyType } from "@berth/proxy";
import type { ProxyRegistry } from "./proxy-registry.js";

/**
 * io.containerd.grpc.v1.proxy-plugins: Berth's berth.services.plugins.v1.ProxyPlugins, through
 * which external plugins join and leave the running daemon (containerd needs a restart).
 */
export function proxyPluginsGrpcPlugin(registry: ProxyRegistry) {
  return definePlugin({
    type: GrpcPlugin,
    id: "proxy-plugins",
    init: () => ({
      bindings: [
        bindService(proxyPluginsApi.ProxyPlugins, {
          async register(req) {
            const p = req.plugin;
            if (!p) throw invalidArgument("plugin is required");
            await registry.register({ type: proxyType(p.type), id: p.id, address: p.address, exports: { ...p.exports }, persist: p.persist });
            return {};
          },
          async unregister(req) {
            await registry.unregister(req.type === "" ? "" : proxyType(req.type), req.id);
            return {};
          },
          async list() {
            return { plugins: registry.list().map((p) => ({ type: p.type, id: p.id, address: p.address, persist: p.persist, exports: { ...p.exports } })) };
          },
        }),
      ],
    }),
  });
}

function proxyType(type: string): ProxyType {
  if (!PROXY_TYPES.includes(type as ProxyType)) throw invalidArgument(`unknown proxy plugin type ${JSON.stringify(type)} (expected ${PROXY_TYPES.join(", ")})`);
  return type as ProxyType;
}
