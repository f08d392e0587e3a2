import { readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { parseNetworkConfigFile, type NetworkConfigList } from "./network-config.js";

export interface LoadNetworkConfigOptions {
  /** The directory of network configs (containerd's `conf_dir`, e.g. /etc/cni/net.d). */
  readonly confDir: string;
  /** How many networks to load, in file-name order; 0 or less means all. Default 1 (containerd's `max_conf_num`). */
  readonly maxConfNum?: number;
}

/** The file name endings read as network configs, as in containerd. */
export const NETWORK_CONFIG_EXTENSIONS: readonly string[] = [".conf", ".conflist", ".json"];

/**
 * Reads the networks in `confDir`: `.conf`, `.conflist` and `.json` files in lexical order,
 * the first `maxConfNum` of them. An absent or empty directory gives no networks (the network
 * is then "not ready"); an invalid file throws InvalidArgument naming it.
 */
export async function loadNetworkConfig(opts: LoadNetworkConfigOptions): Promise<NetworkConfigList[]> {
  const max = opts.maxConfNum ?? 1;
  const files = await configFiles(opts.confDir);
  const networks: NetworkConfigList[] = [];
  for (const file of files) {
    if (max > 0 && networks.length >= max) break;
    networks.push(parseNetworkConfigFile(file, await readFile(file, "utf8")));
  }
  return networks;
}

async function configFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && NETWORK_CONFIG_EXTENSIONS.includes(extname(e.name)))
    .map((e) => e.name)
    .sort()
    .map((name) => join(dir, name));
}
