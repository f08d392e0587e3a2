import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { isNotFound, type ContainerStore, type Logger } from "@berth/core";
import { unmountAll } from "@berth/mount";
import { bundleOf, rootfsOf, SHIM_BINARY_FILE, type Bundle, type BundleDirs } from "./bundle.js";
import { readShimAddress, type ShimAddress } from "./shim-address.js";
import type { ShimResolver } from "./shim-binary-path.js";
import type { ShimInstance } from "./shim-instance.js";
import { openShimLog } from "./shim-log.js";
import type { ShimManagerImpl } from "./shim-manager.js";

/** How long reconnecting to one shim may take (containerd's shim load timeout). */
export const LOAD_TIMEOUT_MS = 5_000;
/** Shims reconnected at once; each is a few calls and maybe a `delete` run. */
const LOAD_CONCURRENCY = 4;

export interface LoadReport {
  /** Tasks whose shims answered and run on: `<ns>/<id>`. */
  readonly loaded: string[];
  /** Bundles whose shim was gone or had no task; cleaned up. */
  readonly cleaned: string[];
}

export interface LoadContext {
  readonly manager: ShimManagerImpl;
  readonly dirs: BundleDirs;
  readonly resolver: ShimResolver;
  readonly containers: Pick<ContainerStore, "get">;
  readonly log: Logger;
}

/**
 * After a daemon restart: walks every bundle, reconnects to its shim and lists its task again.
 * A shim that does not answer is cleaned up after (its binary's `delete`, the exit published, the
 * bundle removed); a shim that answers but runs nothing (the daemon died between starting it
 * and creating the task) is shut down. Then work directories nobody owns are removed.
 */
export async function loadExistingShims(ctx: LoadContext): Promise<LoadReport> {
  const report: LoadReport = { loaded: [], cleaned: [] };
  for (const namespace of await visibleDirs(ctx.dirs.state)) {
    const bundles = (await visibleDirs(join(ctx.dirs.state, namespace))).map((id) => bundleOf(ctx.dirs, namespace, id));
    await forEachLimited(bundles, LOAD_CONCURRENCY, async (bundle) => {
      const key = `${namespace}/${bundle.id}`;
      const kept = await loadBundle(ctx, bundle).catch((err: unknown) => {
        ctx.log.error("failed to load shim", { id: bundle.id, namespace, path: bundle.path, error: err });
        return false;
      });
      (kept ? report.loaded : report.cleaned).push(key);
    });
  }
  for (const namespace of await visibleDirs(ctx.dirs.root)) {
    for (const id of await visibleDirs(join(ctx.dirs.root, namespace))) {
      // A reboot empties the state dir (tmpfs) but not the root: a work dir with no task is stale.
      if (!ctx.manager.tasksList.find(namespace, id)) await rm(join(ctx.dirs.root, namespace, id), { recursive: true, force: true });
    }
  }
  return report;
}

/** true when the bundle's task is running under a live shim again. */
async function loadBundle(ctx: LoadContext, bundle: Bundle): Promise<boolean> {
  const entries = await readdir(bundle.path).catch(() => []);
  if (entries.length === 0) {
    await ctx.manager.deleteBundleLogged(bundle);
    return false;
  }
  const runtime = await runtimeOf(ctx, bundle);
  if (runtime === undefined) {
    await ctx.manager.deleteBundleLogged(bundle);
    return false;
  }
  let binary: string;
  try {
    binary = await ctx.resolver.resolve(runtime);
  } catch (err) {
    ctx.log.error("failed to resolve runtime path", { id: bundle.id, namespace: bundle.namespace, runtime, error: err });
    await ctx.manager.deleteBundleLogged(bundle);
    return false;
  }
  let address: ShimAddress;
  try {
    address = await readShimAddress(bundle.path);
  } catch (err) {
    ctx.log.warn("shim address unreadable; cleaning up after it", { id: bundle.id, namespace: bundle.namespace, error: err });
    await ctx.manager.reap(bundle, ctx.manager.invocation(bundle, binary), true);
    return false;
  }
  const log = openShimLog(bundle.path, ctx.log.with({ shim: bundle.id, namespace: bundle.namespace }));
  let shim: ShimInstance;
  try {
    shim = ctx.manager.connect(bundle, runtime, binary, address, log);
  } catch (err) {
    log.close(); // a protocol Berth cannot speak: the shim may live, but not for this daemon
    ctx.log.error("cannot reach shim", { id: bundle.id, namespace: bundle.namespace, error: err });
    await ctx.manager.reap(bundle, ctx.manager.invocation(bundle, binary), true);
    return false;
  }
  shim.known = true;
  const signal = AbortSignal.timeout(LOAD_TIMEOUT_MS);
  try {
    await shim.client.connect({ id: bundle.id }, { signal });
  } catch (err) {
    ctx.log.warn("shim does not answer; cleaning up after it", { id: bundle.id, namespace: bundle.namespace, error: err });
    await ctx.manager.cleanupLost(shim);
    return false;
  }
  const pids = await shim.client.pids({ id: bundle.id }, { signal }).then(
    (r) => ({ count: r.processes.length, error: undefined }),
    (error: unknown) => ({ count: 0, error }),
  );
  // containerd's rule: no task (NotFound) or no processes means a shim that leaked.
  if ((pids.error !== undefined && isNotFound(pids.error)) || (pids.error === undefined && pids.count === 0)) {
    ctx.log.info("cleaning leaked shim process", { id: bundle.id, namespace: bundle.namespace });
    await ctx.manager.retire(shim);
    await ctx.manager.deleteBundleLogged(bundle);
    return false;
  }
  if (pids.error !== undefined) ctx.log.warn("failed to query shim pids, keeping shim registered", { id: bundle.id, error: pids.error });
  ctx.manager.tasksList.add(shim);
  return true;
}

/** The runtime a bundle was made for: the shim path saved in it, else the container's runtime name. */
async function runtimeOf(ctx: LoadContext, bundle: Bundle): Promise<string | undefined> {
  const saved = await readFile(join(bundle.path, SHIM_BINARY_FILE), "utf8").catch(() => "");
  if (saved !== "") return saved;
  try {
    return (await ctx.containers.get({ namespace: bundle.namespace }, bundle.id)).runtime.name;
  } catch (err) {
    ctx.log.error("loading container", { id: bundle.id, namespace: bundle.namespace, error: err });
    await unmountAll(rootfsOf(bundle), { detachOnBusy: true }).catch(() => undefined);
    return undefined;
  }
}

async function visibleDirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith(".")).map((e) => e.name);
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
