/**
 * @berth/distribution: Berth's registry client. Image references normalised as docker does,
 * registry endpoints from containerd's hosts.toml layout, and the OCI distribution protocol —
 * resolve, fetch (resumable, retried) and push (mount, monolithic or chunked upload) — with
 * basic and bearer-token auth. Landing blobs in a content store is the pull pipeline's job
 * (@berth/transfer); this package knows registries, not stores.
 */

// References and digests.
export {
  parseReference,
  normalizeReference,
  formatReference,
  repositoryName,
  familiarName,
  DEFAULT_DOMAIN,
  DEFAULT_TAG,
} from "./reference/reference.js";
export type { ImageReference, ParseReferenceOptions } from "./reference/reference.js";
export { parseDigest, isValidDigest, createDigester, digestOf } from "./reference/digest.js";
export type { ParsedDigest, Digester } from "./reference/digest.js";

// The client.
export { createResolver, DEFAULT_MAX_MANIFEST_SIZE } from "./registry/resolver.js";
export type { Resolver, ResolverOptions, Resolved } from "./registry/resolver.js";
export type { Fetcher, FetchOptions } from "./registry/fetcher.js";
export type { Pusher, PushBody, PushOptions, PushResult } from "./registry/pusher.js";
export {
  MediaTypes,
  MANIFEST_ACCEPT,
  isManifestMediaType,
  isIndexMediaType,
  isManifestOrIndex,
} from "./registry/media-types.js";

// Endpoints and credentials.
export { configureHosts } from "./hosts/configure-hosts.js";
export type { HostsOptions } from "./hosts/configure-hosts.js";
export { parseHostsFile } from "./hosts/hosts-file.js";
export type { HostEntry } from "./hosts/hosts-file.js";
export { isLoopbackHost } from "./hosts/registry-host.js";
export type { RegistryHost, RegistryHosts, HostCapability, TlsSettings } from "./hosts/registry-host.js";
export type { Credentials, CredentialsProvider } from "./auth/credentials.js";
export { parseChallenges } from "./auth/challenge.js";
export type { AuthChallenge } from "./auth/challenge.js";
export { DEFAULT_RETRY } from "./http/retry.js";
export type { RetryPolicy } from "./http/retry.js";
