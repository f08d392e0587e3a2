import { BerthError, classOf, failedPrecondition, notFound } from "@berth/core";
import { parseCniResult } from "./cni-result.js";
import { loadNetworkConfig } from "./load-network-config.js";
import { delChain, addChain, checkChain, supportsPrevResultOnDel, type ChainRun } from "./network-chain.js";
import { parseNetworkConfigList, type NetworkConfigList } from "./network-config.js";
import { isPinnedNetns } from "./netns.js";
import { findPlugin } from "./plugin-exec.js";
import { summarizePodNetwork, type NetworkAttachment, type PodNetwork } from "./pod-network.js";
import { createResultCache, DEFAULT_CNI_CACHE_DIR, type CachedAttachment } from "./result-cache.js";
import type { CapabilityArgs, CniArgs } from "./runtime-args.js";
import { validateContainerId, validateIfName } from "./validate.js";

export interface CniNetworkingOptions {
  /** Network configs (containerd's `conf_dir`). */
  readonly confDir: string;
  /** Where plugin binaries are looked up, in order (containerd's `bin_dir`; Debian: /usr/lib/cni). */
  readonly binDirs: readonly string[];
  /** Networks to use from `confDir`, in file-name order; 0 or less: all. Default 1. */
  readonly maxConfNum?: number;
  /** Root of the result cache (`<cacheDir>/results`). Default /var/lib/cni, shared with libcni. */
  readonly cacheDir?: string;
  /** Attach a built-in loopback network (`lo` up) before the configured ones, as containerd's CRI does. */
  readonly loopback?: boolean;
}

/** Whether pods can be networked now: the CRI's NetworkReady condition. */
export type NetworkStatus =
  | { readonly ready: true; readonly networks: readonly string[] }
  | {
      readonly ready: false;
      readonly reason: "NotLoaded" | "NoNetworkConfig" | "InvalidNetworkConfig" | "PluginNotFound";
      readonly message: string;
    };

export interface SetupRequest {
  /** The sandbox's id; names the attachment in plugins' state (host-local leases, portmap chains). */
  readonly containerId: string;
  readonly netnsPath: string;
  /** The first configured network's interface in the sandbox; later ones get eth1, eth2… Default "eth0". */
  readonly ifName?: string;
  /** CNI_ARGS (see kubernetesPodArgs); IgnoreUnknown=1 is added. */
  readonly args?: CniArgs;
  readonly capabilities?: CapabilityArgs;
  readonly signal?: AbortSignal;
}

export interface TeardownRequest {
  readonly containerId: string;
  /** Defaults to the path recorded at setup. A namespace already removed is fine. */
  readonly netnsPath?: string;
  /** Only for networks with no cached setup (a setup that crashed half-way): what to pass DEL. */
  readonly ifName?: string;
  readonly args?: CniArgs;
  readonly capabilities?: CapabilityArgs;
  readonly signal?: AbortSignal;
}

export interface CheckRequest {
  readonly containerId: string;
  readonly netnsPath: string;
  readonly ifName?: string;
  readonly signal?: AbortSignal;
}

/** Pod networking through CNI: what the CRI's sandbox controller calls. */
export interface CniNetworking {
  /** (Re)reads `confDir` and returns the new status; config errors become a not-ready status naming the file. */
  load(): Promise<NetworkStatus>;
  /** The status of the last load. */
  status(): NetworkStatus;
  /** The networks of the last load, built-in loopback included, in setup order. */
  networks(): readonly NetworkConfigList[];
  /**
   * ADDs every network to the container, in order, and caches each result on disk. When one
   * fails, the ones already added are deleted again before the error is thrown.
   */
  setup(req: SetupRequest): Promise<PodNetwork>;
  /** Verifies each network is still as ADD left it (spec ≥ 0.4.0; a network may disable it). */
  check(req: CheckRequest): Promise<void>;
  /**
   * DELs every network the container was attached to, in reverse, from the cache (so it works
   * after a restart or a config change), then forgets it. Idempotent.
   */
  teardown(req: TeardownRequest): Promise<void>;
  /** What setup reported for a container, read back from the cache; undefined when not attached. */
  cached(containerId: string): Promise<PodNetwork | undefined>;
}

const LOOPBACK_NETWORK = parseNetworkConfigList(
  "<built-in loopback network>",
  JSON.stringify({ cniVersion: "0.3.1", name: "cni-loopback", plugins: [{ type: "loopback" }] }),
);

interface Loaded {
  readonly status: NetworkStatus;
  readonly networks: readonly NetworkConfigList[];
}

interface Planned {
  readonly list: NetworkConfigList;
  readonly ifName: string;
}

export function createCniNetworking(opts: CniNetworkingOptions): CniNetworking {
  const cache = createResultCache(opts.cacheDir ?? DEFAULT_CNI_CACHE_DIR);
  let loaded: Loaded = { status: { ready: false, reason: "NotLoaded", message: "cni config not loaded yet" }, networks: [] };

  async function load(): Promise<NetworkStatus> {
    loaded = await readConfig(opts);
    return loaded.status;
  }

  async function ready(): Promise<readonly NetworkConfigList[]> {
    if (!loaded.status.ready && loaded.status.reason === "NotLoaded") await load();
    const { status, networks } = loaded;
    if (!status.ready) throw failedPrecondition(`cni network not ready: ${status.message}`);
    return networks;
  }

  // Interface names follow the network's place among the configured ones (loopback is "lo").
  function plan(networks: readonly NetworkConfigList[], primary: string): Planned[] {
    let n = 0;
    return networks.map((list) => {
      if (list === LOOPBACK_NETWORK) return { list, ifName: "lo" };
      const ifName = n === 0 ? primary : `eth${n}`;
      n++;
      return { list, ifName };
    });
  }

  const run = (p: Planned, base: Omit<ChainRun, "list" | "ifName" | "binDirs">): ChainRun => ({
    ...base,
    list: p.list,
    ifName: p.ifName,
    binDirs: opts.binDirs,
  });

  async function setup(req: SetupRequest): Promise<PodNetwork> {
    validateContainerId(req.containerId);
    const primary = req.ifName ?? "eth0";
    validateIfName(primary);
    const planned = plan(await ready(), primary);
    const base = {
      containerId: req.containerId,
      netns: req.netnsPath,
      args: req.args ?? [],
      capabilities: req.capabilities ?? {},
      signal: req.signal,
    };
    const attachments: NetworkAttachment[] = [];
    let attempted = 0;
    try {
      for (const [index, p] of planned.entries()) {
        attempted = index + 1;
        const raw = await addChain(run(p, base));
        const result = parseCniResult(raw, `network "${p.list.name}"`);
        await cache.put({
          containerId: req.containerId,
          networkName: p.list.name,
          ifName: p.ifName,
          netns: req.netnsPath,
          configJson: p.list.json,
          cniArgs: base.args,
          capabilityArgs: base.capabilities,
          result: raw,
          index,
        });
        attachments.push({ network: p.list.name, ifName: p.ifName, result });
      }
    } catch (err) {
      // Undo what was done, the failed network included (its chain may have half-run), so a
      // failed setup leaves no IP allocated. Not cancellable: the caller's signal already fired
      // or the failure was elsewhere, and either way the cleanup must happen.
      for (const p of planned.slice(0, attempted).reverse()) {
        const cachedEntry = await cache.get(p.list.name, req.containerId, p.ifName).catch(() => undefined);
        await delChain(run(p, { ...base, signal: undefined }), cachedEntry?.result)
          .then(() => cache.remove(p.list.name, req.containerId, p.ifName))
          .catch(() => {});
      }
      throw err;
    }
    return summarizePodNetwork(attachments, primary);
  }

  async function check(req: CheckRequest): Promise<void> {
    validateContainerId(req.containerId);
    for (const p of plan(await ready(), req.ifName ?? "eth0")) {
      if (p.list.disableCheck || !supportsPrevResultOnDel(p.list.cniVersion)) continue;
      const entry = await cache.get(p.list.name, req.containerId, p.ifName);
      if (!entry) throw notFound(`no cached cni result for network "${p.list.name}" of ${req.containerId}`);
      await checkChain(
        run(p, { containerId: req.containerId, netns: req.netnsPath, args: entry.cniArgs, capabilities: entry.capabilityArgs, signal: req.signal }),
        entry.result,
      );
    }
  }

  async function teardown(req: TeardownRequest): Promise<void> {
    validateContainerId(req.containerId);
    const entries = await cache.list(req.containerId);
    let netns = req.netnsPath ?? entries.find((e) => e.netns !== "")?.netns ?? "";
    // Plugins cannot enter a namespace that is gone; an empty CNI_NETNS tells them to release
    // what lives outside it (IP leases, host rules) and skip the rest.
    if (netns !== "" && !(await isPinnedNetns(netns))) netns = "";
    const failures: unknown[] = [];

    for (const entry of [...entries].reverse()) {
      try {
        await delCached(entry, netns, req.signal);
      } catch (err) {
        failures.push(err);
      }
    }

    // Networks in today's config with no cache entry: a setup that died before caching may
    // still hold resources. DEL is idempotent, so running it on a never-attached network is harmless.
    if (loaded.status.ready) {
      const covered = new Set(entries.map((e) => `${e.networkName}\0${e.ifName}`));
      const rest = plan(loaded.networks, req.ifName ?? "eth0").filter((p) => !covered.has(`${p.list.name}\0${p.ifName}`));
      const base = {
        containerId: req.containerId,
        netns,
        args: req.args ?? [],
        capabilities: req.capabilities ?? {},
        signal: req.signal,
      };
      for (const p of rest.reverse()) {
        await delChain(run(p, base), undefined).catch((err: unknown) => failures.push(err));
      }
    }
    if (failures.length > 0) throw combine(`cni teardown of ${req.containerId}`, failures);
  }

  async function delCached(entry: CachedAttachment, netns: string, signal: AbortSignal | undefined): Promise<void> {
    const list = parseNetworkConfigList(`cached config of network "${entry.networkName}"`, entry.configJson);
    await delChain(
      {
        list,
        ifName: entry.ifName,
        binDirs: opts.binDirs,
        containerId: entry.containerId,
        netns,
        args: entry.cniArgs,
        capabilities: entry.capabilityArgs,
        signal,
      },
      entry.result,
    );
    await cache.remove(entry.networkName, entry.containerId, entry.ifName);
  }

  async function cached(containerId: string): Promise<PodNetwork | undefined> {
    validateContainerId(containerId);
    const entries = await cache.list(containerId);
    if (entries.length === 0) return undefined;
    const attachments = entries.map((e) => ({
      network: e.networkName,
      ifName: e.ifName,
      result: parseCniResult(e.result, `cached result of network "${e.networkName}"`),
    }));
    const primary = entries.find((e) => e.ifName !== "lo")?.ifName ?? "eth0";
    return summarizePodNetwork(attachments, primary);
  }

  return {
    load,
    status: () => loaded.status,
    networks: () => loaded.networks,
    setup,
    check,
    teardown,
    cached,
  };
}

async function readConfig(opts: CniNetworkingOptions): Promise<Loaded> {
  let configured: NetworkConfigList[];
  try {
    configured = await loadNetworkConfig({ confDir: opts.confDir, ...(opts.maxConfNum !== undefined ? { maxConfNum: opts.maxConfNum } : {}) });
  } catch (err) {
    return { status: { ready: false, reason: "InvalidNetworkConfig", message: (err as Error).message }, networks: [] };
  }
  if (configured.length === 0) {
    return {
      status: { ready: false, reason: "NoNetworkConfig", message: `no network config found in ${opts.confDir}` },
      networks: [],
    };
  }
  const networks = opts.loopback ? [LOOPBACK_NETWORK, ...configured] : configured;
  for (const list of networks) {
    for (const plugin of list.plugins) {
      try {
        await findPlugin(plugin.type, opts.binDirs);
      } catch (err) {
        return {
          status: { ready: false, reason: "PluginNotFound", message: `${(err as Error).message} (network "${list.name}" in ${list.source})` },
          networks,
        };
      }
    }
  }
  return { status: { ready: true, networks: networks.map((n) => n.name) }, networks };
}

function combine(what: string, failures: readonly unknown[]): Error {
  const first = failures[0];
  if (failures.length === 1 && first instanceof Error) return first;
  const text = failures.map((f) => (f instanceof Error ? f.message : String(f))).join("; ");
  return new BerthError(classOf(first), `${what}: ${failures.length} failures: ${text}`, { cause: first });
}
