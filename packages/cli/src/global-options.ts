import { DEFAULT_ADDRESS, DEFAULT_NAMESPACE, NAMESPACE_ENV } from "@berth/core";

/** Options every command takes, with containerd's environment variables as defaults. */
export interface GlobalOptions {
  address: string;
  namespace: string;
}

export function globalDefaults(env: NodeJS.ProcessEnv): GlobalOptions {
  return {
    address: env["CONTAINERD_ADDRESS"] || DEFAULT_ADDRESS,
    namespace: env[NAMESPACE_ENV] || DEFAULT_NAMESPACE,
  };
}
