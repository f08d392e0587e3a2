import { criApi } from "@berth/api";
import { BERTH_VERSION, bindService, type ServiceBinding } from "@berth/core";
import type { CriConfig } from "../config/cri-config.js";
import type { RuntimeSettings } from "../state/cri-state.js";
import { CONTAINER_METHODS, type ContainerController } from "./container-controller.js";
import type { NetworkReadiness } from "./network-readiness.js";
import type { RuntimeHandlers } from "./runtime-handlers.js";
import { SANDBOX_METHODS, type SandboxController } from "./sandbox-controller.js";

/** The kubelet-facing API version the CRI's Version reports (containerd reports the same). */
export const KUBE_API_VERSION = "0.1.0";
export const RUNTIME_NAME = "berth";
export const RUNTIME_API_VERSION = "v1";

export interface RuntimeServiceDeps {
  readonly config: CriConfig;
  readonly settings: RuntimeSettings;
  readonly sandboxes: SandboxController;
  readonly containers: ContainerController;
  readonly network: NetworkReadiness;
}

/**
 * runtime.v1.RuntimeService: Version, Status and UpdateRuntimeConfig here; every pod method
 * goes to the sandbox controller and every container method to the container controller.
 */
export function runtimeServiceBinding(deps: RuntimeServiceDeps): ServiceBinding {
  const own: Pick<RuntimeHandlers, "version" | "status" | "updateRuntimeConfig"> = {
    version: async () => ({
      version: KUBE_API_VERSION,
      runtimeName: RUNTIME_NAME,
      runtimeVersion: BERTH_VERSION,
      runtimeApiVersion: RUNTIME_API_VERSION,
    }),
    async status(request, call) {
      const network = await deps.network.check(call.signal);
      const conditions = [
        { type: "RuntimeReady", status: true, reason: "", message: "" },
        { type: "NetworkReady", status: network.ready, reason: network.reason, message: network.message },
      ];
      const info: Record<string, string> = request.verbose ? { config: JSON.stringify(deps.config) } : {};
      return { status: { conditions }, info };
    },
    async updateRuntimeConfig(request) {
      // Only the pod CIDR exists in this message; the network side reads it when it sets pods up.
      const cidr = request.runtimeConfig?.networkConfig?.podCidr ?? "";
      if (cidr !== "") deps.settings.podCidr = cidr;
      return {};
    },
  };
  const impl = {
    ...bound(deps.sandboxes, SANDBOX_METHODS),
    ...bound(deps.containers, CONTAINER_METHODS),
    ...own,
  } as RuntimeHandlers;
  return bindService(criApi.RuntimeService, impl);
}

/** The controller's methods, bound, so a controller written as a class keeps `this`. */
function bound<T extends object>(controller: T, methods: readonly (keyof T & string)[]): Partial<T> {
  const out: Partial<T> = {};
  for (const name of methods) {
    const fn = controller[name];
    if (typeof fn !== "function") throw new TypeError(`cri: the controller lacks ${name}`);
    out[name] = fn.bind(controller) as T[typeof name];
  }
  return out;
}
