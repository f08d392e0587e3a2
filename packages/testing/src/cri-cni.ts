import { randomBytes, randomInt } from "node:crypto";
import { readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { sharedFixturesDir } from "./cri-images.js";
import { exec, requireTool } from "./tools.js";

export interface CriCniOptions {
  /** An IPv4 /24 such as "10.201.7.0/24". Default: a random 10.200-239.x.0/24 no interface or route on the host uses. */
  readonly subnet?: string;
  /** Bridge (and network) name, at most 15 characters. Default: "bcri" + 8 hex digits. */
  readonly bridge?: string;
  /** host-local's address store. Default: `<confDir>/ipam`. */
  readonly ipamDataDir?: string;
}

/** A CNI network for pods written from ../shared/fixtures/cri/cni/10-critest.conflist. */
export interface CriCniNetwork {
  readonly confDir: string;
  /** The conflist file, alone in confDir (a runtime's max_conf_num = 1 picks it). */
  readonly conflist: string;
  /** The bridge's name; the network is named the same. */
  readonly bridge: string;
  readonly subnet: string;
  /** The bridge's address, the pods' default route. */
  readonly gateway: string;
  readonly ipamDataDir: string;
  /** Deletes the bridge (if a runtime created it), the conflist and the address store. */
  remove(): Promise<void>;
}

interface Conflist {
  name: string;
  plugins: Array<{ type: string; bridge?: string; ipam?: Record<string, unknown> }>;
}

const BRIDGE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;
const SUBNET_24 = /^(\d+)\.(\d+)\.(\d+)\.0\/24$/;

/**
 * Writes the critest CNI chain (bridge + host-local + portmap + loopback, Debian's
 * containernetworking-plugins in /usr/lib/cni) into `confDir` with a bridge name and subnet of
 * its own, so test runs side by side, and a runtime on the host's own network, never share one.
 */
export async function writeCriCniConf(confDir: string, opts: CriCniOptions = {}): Promise<CriCniNetwork> {
  const bridge = opts.bridge ?? `bcri${randomBytes(4).toString("hex")}`;
  if (!BRIDGE_NAME.test(bridge)) throw new Error(`bridge name ${JSON.stringify(bridge)} is not a valid interface name (1-15 characters)`);
  const subnet = opts.subnet ?? (await freeSubnet());
  const m = SUBNET_24.exec(subnet);
  if (!m) throw new Error(`subnet ${subnet} is not an IPv4 x.y.z.0/24`);
  const ipamDataDir = opts.ipamDataDir ?? join(confDir, "ipam");
  const template = JSON.parse(await readFile(join(sharedFixturesDir, "cri", "cni", "10-critest.conflist"), "utf8")) as Conflist;
  const bridgePlugin = template.plugins.find((p) => p.type === "bridge");
  if (!bridgePlugin?.ipam) throw new Error("the shared critest conflist has no bridge plugin with ipam");
  template.name = bridge;
  bridgePlugin.bridge = bridge;
  bridgePlugin.ipam = { ...bridgePlugin.ipam, ranges: [[{ subnet }]], dataDir: ipamDataDir };
  await mkdir(confDir, { recursive: true });
  const conflist = join(confDir, "10-critest.conflist");
  await writeFile(conflist, JSON.stringify(template, null, 2) + "\n");
  return {
    confDir,
    conflist,
    bridge,
    subnet,
    gateway: `${m[1]}.${m[2]}.${m[3]}.1`,
    ipamDataDir,
    remove: async () => {
      await exec("ip", ["link", "del", bridge]).catch((err: { stderr?: string }) => {
        if (!/Cannot find device|does not exist/.test(err.stderr ?? "")) throw err;
      });
      await rm(conflist, { force: true });
      await rm(ipamDataDir, { recursive: true, force: true });
    },
  };
}

/** A random 10.200-239.x.0/24 that no address or route on the host falls in. */
async function freeSubnet(): Promise<string> {
  await requireTool("ip", "iproute2");
  const { stdout: addrs } = await exec("ip", ["-4", "-o", "addr", "show"]);
  const { stdout: routes } = await exec("ip", ["-4", "route", "show", "table", "all"]);
  const used = new Set([...`${addrs}\n${routes}`.matchAll(/\b(\d+\.\d+\.\d+)\.\d+/g)].map((x) => x[1]));
  for (let i = 0; i < 1000; i++) {
    const prefix = `10.${randomInt(200, 240)}.${randomInt(0, 256)}`;
    if (!used.has(prefix)) return `${prefix}.0/24`;
  }
  throw new Error("no free 10.200-239.x.0/24 subnet on this host");
}
