import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CapabilityArgs, CniArgs } from "./runtime-args.js";
import { isObject } from "./network-config.js";

/** libcni's default cache root; results live in `<cacheDir>/results`. */
export const DEFAULT_CNI_CACHE_DIR = "/var/lib/cni";

const KIND = "cniCacheV1";

/**
 * What ADD left behind for one network of one container: enough to run DEL (or CHECK) later,
 * from another process, after the config changed or vanished. Stored in libcni's cache format
 * (same file names and fields), so tools that read /var/lib/cni/results understand it.
 */
export interface CachedAttachment {
  readonly containerId: string;
  readonly networkName: string;
  readonly ifName: string;
  readonly netns: string;
  /** The network list as JSON, exactly as ADD ran it. */
  readonly configJson: string;
  readonly cniArgs: CniArgs;
  readonly capabilityArgs: CapabilityArgs;
  /** The chain's raw ADD result: DEL's and CHECK's prevResult. */
  readonly result: unknown;
  /** Position in the container's network order; teardown goes backwards. */
  readonly index: number;
}

export interface ResultCache {
  put(entry: CachedAttachment): Promise<void>;
  get(networkName: string, containerId: string, ifName: string): Promise<CachedAttachment | undefined>;
  /** Every attachment cached for a container, in setup order. */
  list(containerId: string): Promise<CachedAttachment[]>;
  remove(networkName: string, containerId: string, ifName: string): Promise<void>;
}

export function createResultCache(cacheDir: string): ResultCache {
  const dir = join(cacheDir, "results");
  const file = (net: string, id: string, ifName: string) => join(dir, `${net}-${id}-${ifName}`);

  return {
    async put(e) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const body = {
        kind: KIND,
        containerId: e.containerId,
        // Go's encoding/json writes []byte as base64; keep that so libcni can read it.
        config: Buffer.from(e.configJson).toString("base64"),
        ifName: e.ifName,
        networkName: e.networkName,
        netns: e.netns,
        cniArgs: e.cniArgs,
        capabilityArgs: e.capabilityArgs,
        result: e.result,
        berthIndex: e.index,
      };
      // Write then rename: a crash never leaves half a record that DEL would then ignore.
      const target = file(e.networkName, e.containerId, e.ifName);
      const tmp = `${target}.tmp-${randomBytes(6).toString("hex")}`;
      await writeFile(tmp, JSON.stringify(body), { mode: 0o600 });
      await rename(tmp, target);
    },

    async get(net, id, ifName) {
      return readEntry(file(net, id, ifName));
    },

    async list(containerId) {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
        throw err;
      }
      const found: CachedAttachment[] = [];
      for (const name of names) {
        if (!name.includes(`-${containerId}-`) || name.includes(".tmp-")) continue;
        const entry = await readEntry(join(dir, name));
        if (entry?.containerId === containerId) found.push(entry);
      }
      return found.sort((a, b) => a.index - b.index);
    },

    async remove(net, id, ifName) {
      await rm(file(net, id, ifName), { force: true });
    },
  };
}

async function readEntry(path: string): Promise<CachedAttachment | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined; // unreadable records are treated as absent, as libcni does
  }
  if (!isObject(v) || v.kind !== KIND || typeof v.containerId !== "string" || typeof v.networkName !== "string") return undefined;
  if (typeof v.ifName !== "string" || typeof v.config !== "string") return undefined;
  return {
    containerId: v.containerId,
    networkName: v.networkName,
    ifName: v.ifName,
    netns: typeof v.netns === "string" ? v.netns : "",
    configJson: Buffer.from(v.config, "base64").toString("utf8"),
    cniArgs: Array.isArray(v.cniArgs) ? (v.cniArgs as [string, string][]) : [],
    capabilityArgs: isObject(v.capabilityArgs) ? v.capabilityArgs : {},
    result: v.result,
    index: typeof v.berthIndex === "number" ? v.berthIndex : 0,
  };
}
