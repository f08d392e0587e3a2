/**
 * @berth/runtime-runc-v2: Berth's containerd shim, `containerd-shim-berth-v2` (runtime name
 * io.containerd.berth.v2). It serves containerd.task.v2.Task over ttrpc, drives runc (or crun),
 * reaps its containers' processes and sends their events — and one shim process can serve many
 * containers. The binary is the product; these exports serve the daemon side and tests.
 */
export { runShim, SHIM_VERSION } from "./main.js";
export { parseShimFlags, shimFlagArgs } from "./cli/shim-flags.js";
export type { ShimFlags } from "./cli/shim-flags.js";
export { GROUP_ANNOTATIONS, GROUP_ENV, DEFAULT_SOCKET_DIR, groupMode, shimGroup, shimSocketAddress } from "./start/shim-group.js";
export type { GroupMode } from "./start/shim-group.js";
export { SHIM_PROCESS_NAME } from "./start/start-shim.js";
export { decodeShimCgroup } from "./start/start-options.js";
export { stdioTarget } from "./io/stdio.js";
export type { Stdio, StdioTarget } from "./io/stdio.js";
export { cgroupMetrics } from "./cgroups/cgroup-metrics.js";
export type { ContainerCgroup } from "./cgroups/cgroup-paths.js";
