import type { OpContext } from "@berth/core";

/** The containerd namespace the CRI keeps everything in, as containerd's CRI does. */
export const K8S_NAMESPACE = "k8s.io";

/** An operation context in the CRI's namespace, cancelled with `signal`. */
export function criOpContext(signal?: AbortSignal): OpContext {
  return { namespace: K8S_NAMESPACE, signal };
}
