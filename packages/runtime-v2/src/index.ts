/**
 * @berth/runtime-v2: containerd's runtime v2 on the daemon's side. The shim manager starts a
 * v2 shim per task (any shim: Debian's containerd-shim-runc-v2, Berth's own), drives it over
 * ttrpc and finds it again after a daemon restart.
 */
import { runtimeV2TaskPlugin } from "./plugins.js";

// For daemons and tests.
export { runtimeV2TaskPlugin, DEFAULT_RUNTIME } from "./plugins.js";
/** Every plugin of this package. */
export const runtimeV2Plugins = [runtimeV2TaskPlugin] as const;
export { createShimManager, CLEANUP_TIMEOUT_MS, SHUTDOWN_TIMEOUT_MS } from "./shim-manager.js";
export type { ShimManager, ShimManagerOptions } from "./shim-manager.js";
export { LOAD_TIMEOUT_MS } from "./load-shims.js";
export type { LoadReport } from "./load-shims.js";

// The pieces, for code that drives shims by hand.
export { ShimResolver, shimBinaryName, pathDirs } from "./shim-binary-path.js";
export type { ShimResolverOptions } from "./shim-binary-path.js";
export { parseStartOutput, readShimAddress, writeShimAddress, MAX_SHIM_VERSION } from "./shim-address.js";
export type { ShimAddress } from "./shim-address.js";
export { runShimStart, runShimDelete, shimEnvironment } from "./shim-command.js";
export type { ShimInvocation } from "./shim-command.js";
export { createBundle, deleteBundle, bundleOf, SHIM_BINARY_FILE } from "./bundle.js";
export type { Bundle, BundleDirs } from "./bundle.js";
export { taskServiceFor } from "./task-api.js";
