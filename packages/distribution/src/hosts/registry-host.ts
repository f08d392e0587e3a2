/**
 * Where requests for one registry name go: an ordered list of endpoints (mirrors first, the
 * server last), each with what it may be used for and how to connect. containerd's
 * RegistryHost, as plain data; the HTTP layer turns the TLS part into a connection pool.
 */

/** pull: fetch by digest; resolve: turn a tag into a digest; push: upload. */
export type HostCapability = "pull" | "resolve" | "push";
export const ALL_CAPABILITIES: readonly HostCapability[] = ["pull", "resolve", "push"];

export interface TlsSettings {
  /** Accept any server certificate (hosts.toml skip_verify). */
  readonly skipVerify?: boolean | undefined;
  /** PEM files of extra trusted CAs, added to the system's. */
  readonly caFiles?: readonly string[] | undefined;
  /** Client certificate and key PEM files; key undefined means the key is in the cert file. */
  readonly clientPairs?: ReadonlyArray<readonly [cert: string, key: string | undefined]> | undefined;
}

export interface RegistryHost {
  readonly scheme: "http" | "https";
  /** host[:port] */
  readonly host: string;
  /** API root path, "/v2" unless override_path. */
  readonly path: string;
  readonly capabilities: ReadonlySet<HostCapability>;
  readonly tls?: TlsSettings | undefined;
  /** Extra headers sent with every request to this host. */
  readonly header?: Readonly<Record<string, readonly string[]>> | undefined;
  /** How long a TCP connect may take (hosts.toml dial_timeout); undefined: the HTTP layer's default. */
  readonly dialTimeoutMs?: number | undefined;
  /**
   * Try HTTPS, and on a TLS handshake failure retry the same request over plain HTTP (containerd
   * does this for localhost with a port, and for http servers that also have TLS settings).
   */
  readonly httpFallback?: boolean | undefined;
}

/** The endpoints for a registry name (the domain of a reference), in the order to try them. */
export type RegistryHosts = (domain: string) => Promise<readonly RegistryHost[]>;

/** localhost, 127.0.0.0/8 and ::1, with or without a port. */
export function isLoopbackHost(host: string): boolean {
  const name = hostnameOf(host);
  return name === "localhost" || name === "::1" || /^127(?:\.\d{1,3}){3}$/.test(name);
}

/** "[::1]:5000" → "::1", "example.com:443" → "example.com". */
export function hostnameOf(host: string): string {
  if (host.startsWith("[")) return host.slice(1, host.indexOf("]"));
  const colon = host.lastIndexOf(":");
  return colon >= 0 && host.indexOf(":") === colon ? host.slice(0, colon) : host;
}

/** The port written in `host`, or undefined. */
export function portOf(host: string): string | undefined {
  const m = /:(\d+)$/.exec(host);
  if (!m) return undefined;
  if (!host.startsWith("[") && host.indexOf(":") !== host.lastIndexOf(":")) return undefined; // a bare IPv6 address
  return m[1];
}
