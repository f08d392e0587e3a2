import { BERTH_VERSION, silentLogger, type Descriptor, type Logger } from "@berth/core";
import { createAuthorizer } from "../auth/authorizer.js";
import type { CredentialsProvider } from "../auth/credentials.js";
import { configureHosts, type HostsOptions } from "../hosts/configure-hosts.js";
import type { RegistryHosts } from "../hosts/registry-host.js";
import { createHttpClient } from "../http/http-client.js";
import { DEFAULT_RETRY, type RetryPolicy } from "../http/retry.js";
import { formatReference, parseReference, type ImageReference } from "../reference/reference.js";
import { createFetcher, type Fetcher } from "./fetcher.js";
import { createPusher, type Pusher } from "./pusher.js";
import { openRepository } from "./repository.js";
import { resolveDescriptor } from "./resolve.js";
import type { Session } from "./session.js";

/** containerd's limit (4 × 1048 × 1048 bytes, ~4 MiB): a manifest is metadata, never this big. */
export const DEFAULT_MAX_MANIFEST_SIZE = 4 * 1048 * 1048;

export interface ResolverOptions {
  /** Where each registry's requests go; default: configureHosts({ configPath: hostsDir, plainHttp }). */
  readonly hosts?: RegistryHosts | undefined;
  /** A certs.d-style directory of hosts.toml files (ignored when `hosts` is given). */
  readonly hostsDir?: string | undefined;
  /** Plain HTTP for registries hosts.toml does not configure (ignored when `hosts` is given). */
  readonly plainHttp?: HostsOptions["plainHttp"];
  /** Username/password (or identity token) per endpoint host, asked for on a 401. */
  readonly credentials?: CredentialsProvider | undefined;
  /** Extra headers for every registry request. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly userAgent?: string | undefined;
  readonly retry?: Partial<RetryPolicy> | undefined;
  /** Bytes; bigger manifests are refused (ResourceExhausted). */
  readonly maxManifestSize?: number | undefined;
  readonly logger?: Logger | undefined;
}

export interface Resolved {
  /** The normalised reference: "docker.io/library/busybox:latest". */
  readonly name: string;
  readonly reference: ImageReference;
  /** The manifest or index the reference names. */
  readonly descriptor: Descriptor;
}

/**
 * The registry client: resolve references, then fetch and push by descriptor. One resolver
 * shares connections, auth tokens and learned endpoint facts across everything it does; close
 * it when done.
 */
export interface Resolver {
  resolve(ref: string, opts?: { signal?: AbortSignal | undefined }): Promise<Resolved>;
  fetcher(ref: string): Fetcher;
  pusher(ref: string): Pusher;
  close(): Promise<void>;
}

export function createResolver(opts: ResolverOptions = {}): Resolver {
  const http = createHttpClient();
  const userAgent = opts.userAgent ?? `berth/${BERTH_VERSION}`;
  const session: Session = {
    http,
    authorizer: createAuthorizer({ http, credentials: opts.credentials, userAgent }),
    retry: { ...DEFAULT_RETRY, ...opts.retry },
    userAgent,
    headers: Object.fromEntries(Object.entries(opts.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    logger: opts.logger ?? silentLogger,
    plainEndpoints: new Set(),
  };
  const hosts = opts.hosts ?? configureHosts({ configPath: opts.hostsDir, plainHttp: opts.plainHttp });
  const maxManifestSize = opts.maxManifestSize ?? DEFAULT_MAX_MANIFEST_SIZE;
  const repository = (ref: string) => openRepository(session, hosts, parseReference(ref), maxManifestSize);

  return {
    async resolve(ref, { signal } = {}) {
      const repo = repository(ref);
      const descriptor = await resolveDescriptor(repo, signal);
      return { name: formatReference(repo.reference), reference: repo.reference, descriptor };
    },
    fetcher: (ref) => createFetcher(repository(ref)),
    pusher: (ref) => createPusher(repository(ref)),
    close: () => http.close(),
  };
}
