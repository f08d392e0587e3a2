import { introspectionApi } from "@berth/api";
import type { CallOptions, ServiceFactory } from "./service-client.js";

/** containerd's default runtime: Debian's Go shim, containerd-shim-runc-v2. */
export const DEFAULT_RUNTIME = "io.containerd.runc.v2";

/**
 * The runtime a daemon runs containers with when they name none: what its shim manager
 * (`io.containerd.runtime.v2.task`) exports as `default_runtime` through introspection —
 * berthd's is Berth's own shim, io.containerd.berth.v2 — else containerd's, for daemons
 * that export none (containerd 1.6) or fail to answer.
 */
export async function daemonDefaultRuntime(service: ServiceFactory, opts: CallOptions): Promise<string> {
  try {
    const { plugins } = await service(introspectionApi.Introspection).plugins({ filters: ["type==io.containerd.runtime.v2,id==task"] }, opts);
    return plugins.find((p) => p.exports["default_runtime"])?.exports["default_runtime"] || DEFAULT_RUNTIME;
  } catch {
    return DEFAULT_RUNTIME;
  }
}
