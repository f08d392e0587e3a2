import { internal } from "@berth/core";
import { isObject } from "./network-config.js";

/** A plugin chain's ADD result in the CNI 1.0 shape, whichever spec version the plugin spoke. */
export interface CniResult {
  readonly cniVersion: string;
  readonly interfaces: readonly CniInterface[];
  readonly ips: readonly CniIpConfig[];
  readonly routes: readonly CniRoute[];
  readonly dns: CniDns;
}

export interface CniInterface {
  readonly name: string;
  readonly mac?: string;
  /** The netns path for interfaces inside the sandbox; absent for host-side ones (bridge, veth peer). */
  readonly sandbox?: string;
}

export interface CniIpConfig {
  /** CIDR notation, e.g. "10.88.0.5/24". */
  readonly address: string;
  readonly gateway?: string;
  /** Index into `interfaces`. */
  readonly interface?: number;
}

export interface CniRoute {
  readonly dst: string;
  readonly gw?: string;
}

export interface CniDns {
  readonly nameservers?: readonly string[];
  readonly domain?: string;
  readonly search?: readonly string[];
  readonly options?: readonly string[];
}

/**
 * Reads what a chain printed. Spec 0.3.x/0.4.0/1.0 results share one shape (older ones tag
 * each IP with a "version"); 0.1/0.2 results have `ip4`/`ip6` objects and no interfaces.
 */
export function parseCniResult(raw: unknown, source: string): CniResult {
  if (!isObject(raw)) throw internal(`${source}: the CNI result is not a JSON object`);
  const cniVersion = typeof raw.cniVersion === "string" ? raw.cniVersion : "0.1.0";
  const dns = dnsOf(raw.dns);
  if (raw.ip4 !== undefined || raw.ip6 !== undefined) return legacyResult(cniVersion, raw, dns);
  return {
    cniVersion,
    interfaces: arrayOf(raw.interfaces).filter(isObject).map((i) => ({
      name: String(i.name ?? ""),
      ...(typeof i.mac === "string" && i.mac !== "" ? { mac: i.mac } : {}),
      ...(typeof i.sandbox === "string" && i.sandbox !== "" ? { sandbox: i.sandbox } : {}),
    })),
    ips: arrayOf(raw.ips).filter(isObject).map((ip) => ({
      address: String(ip.address ?? ""),
      ...(typeof ip.gateway === "string" ? { gateway: ip.gateway } : {}),
      ...(typeof ip.interface === "number" ? { interface: ip.interface } : {}),
    })),
    routes: routesOf(raw.routes),
    dns,
  };
}

function legacyResult(cniVersion: string, raw: Record<string, unknown>, dns: CniDns): CniResult {
  const ips: CniIpConfig[] = [];
  const routes: CniRoute[] = [];
  for (const key of ["ip4", "ip6"] as const) {
    const ip = raw[key];
    if (!isObject(ip)) continue;
    ips.push({ address: String(ip.ip ?? ""), ...(typeof ip.gateway === "string" ? { gateway: ip.gateway } : {}) });
    routes.push(...routesOf(ip.routes));
  }
  return { cniVersion, interfaces: [], ips, routes, dns };
}

function routesOf(value: unknown): CniRoute[] {
  return arrayOf(value)
    .filter(isObject)
    .map((r) => ({ dst: String(r.dst ?? ""), ...(typeof r.gw === "string" ? { gw: r.gw } : {}) }));
}

function dnsOf(value: unknown): CniDns {
  if (!isObject(value)) return {};
  const strings = (v: unknown) => arrayOf(v).filter((s): s is string => typeof s === "string");
  return {
    ...(value.nameservers !== undefined ? { nameservers: strings(value.nameservers) } : {}),
    ...(typeof value.domain === "string" ? { domain: value.domain } : {}),
    ...(value.search !== undefined ? { search: strings(value.search) } : {}),
    ...(value.options !== undefined ? { options: strings(value.options) } : {}),
  };
}

function arrayOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** An address without its prefix length: "10.88.0.5/24" → "10.88.0.5". */
export function addressOnly(cidr: string): string {
  const slash = cidr.indexOf("/");
  return slash < 0 ? cidr : cidr.slice(0, slash);
}
