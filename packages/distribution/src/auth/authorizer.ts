import { notImplemented, unauthenticated } from "@berth/core";
import type { HttpClient } from "../http/http-client.js";
import type { RegistryHost } from "../hosts/registry-host.js";
import type { AuthChallenge } from "./challenge.js";
import type { Credentials, CredentialsProvider } from "./credentials.js";
import { basicAuthorization, fetchToken, type IssuedToken } from "./fetch-token.js";

/**
 * What an endpoint asked for, learned from its first 401 and then applied up front to every
 * request to it. Bearer tokens are cached per set of scopes until they expire.
 */
type EndpointAuth =
  | { readonly kind: "basic"; readonly authorization: string; readonly username: string }
  | {
      readonly kind: "bearer";
      readonly realm: string;
      readonly service: string | undefined;
      readonly tokens: Map<string, Promise<IssuedToken>>;
      /** Who the last token was asked for, for messages: "anonymous", 'user "bob"'. */
      identity?: string;
    };

export interface Authorizer {
  /** The Authorization header for a request to `endpoint` needing `scopes`, when auth is known. */
  authorize(endpoint: RegistryHost, scopes: readonly string[], signal?: AbortSignal): Promise<string | undefined>;
  /**
   * Learns from a 401's challenges so the request can be retried. `sent` is the Authorization
   * that was rejected. Throws Unauthenticated when retrying cannot help.
   */
  challenged(endpoint: RegistryHost, challenges: readonly AuthChallenge[], sent: string | undefined, what: string): Promise<void>;
  /** Who requests to `endpoint` are made as, for messages: "anonymous", 'user "bob"', … */
  identity(endpoint: RegistryHost): string;
}

export interface AuthorizerOptions {
  readonly http: HttpClient;
  readonly credentials?: CredentialsProvider | undefined;
  readonly userAgent: string;
}

export function createAuthorizer(opts: AuthorizerOptions): Authorizer {
  const endpoints = new Map<string, EndpointAuth>();
  const credentialsFor = async (host: string) => (opts.credentials ? await opts.credentials(host) : undefined);

  const bearerToken = async (endpoint: RegistryHost, auth: Extract<EndpointAuth, { kind: "bearer" }>, scopes: readonly string[], signal?: AbortSignal) => {
    const key = [...new Set(scopes)].sort().join(" ");
    const cached = auth.tokens.get(key);
    if (cached !== undefined) {
      const issued = await cached.catch(() => undefined);
      if (issued !== undefined && issued.expiresAt > Date.now()) return issued.token;
      if (auth.tokens.get(key) === cached) auth.tokens.delete(key);
    }
    // One token request per scope set at a time: concurrent layer fetches share it.
    let pending = auth.tokens.get(key);
    if (pending === undefined) {
      pending = (async () => {
        const credentials = await credentialsFor(endpoint.host);
        auth.identity = describeIdentity(credentials);
        return fetchToken(opts.http, endpoint, {
          realm: auth.realm,
          service: auth.service,
          scopes: key === "" ? [] : key.split(" "),
          credentials,
          userAgent: opts.userAgent,
          signal,
        });
      })();
      auth.tokens.set(key, pending);
      pending.catch(() => {
        if (auth.tokens.get(key) === pending) auth.tokens.delete(key);
      });
    }
    return (await pending).token;
  };

  return {
    identity(endpoint) {
      const auth = endpoints.get(endpoint.host);
      if (auth === undefined) return "anonymous";
      return auth.kind === "basic" ? `user "${auth.username}"` : `a token for ${auth.identity ?? "anonymous"}`;
    },

    async authorize(endpoint, scopes, signal) {
      const auth = endpoints.get(endpoint.host);
      if (auth === undefined) return undefined;
      if (auth.kind === "basic") return auth.authorization;
      return `Bearer ${await bearerToken(endpoint, auth, scopes, signal)}`;
    },

    async challenged(endpoint, challenges, sent, what) {
      const current = endpoints.get(endpoint.host);
      const bearer = challenges.find((c) => c.scheme === "bearer");
      if (bearer !== undefined) {
        const realm = bearer.params["realm"];
        if (!realm) throw unauthenticated(`${what}: the registry asks for a bearer token but names no realm`);
        const service = bearer.params["service"];
        if (sent?.startsWith("Bearer ") && current?.kind === "bearer" && current.realm === realm) {
          // Our token was refused (expired, revoked, too narrow): forget cached tokens and ask
          // again; the caller bounds how often, then reports the registry's answer.
          current.tokens.clear();
          return;
        }
        endpoints.set(endpoint.host, { kind: "bearer", realm, service, tokens: new Map() });
        return;
      }
      if (challenges.some((c) => c.scheme === "basic")) {
        const creds = await credentialsFor(endpoint.host);
        if (creds === undefined || creds.username === "") {
          throw unauthenticated(`${what}: ${endpoint.host} requires basic authentication and no username/password was given for it`);
        }
        if (sent?.startsWith("Basic ")) {
          endpoints.delete(endpoint.host);
          throw unauthenticated(`${what}: ${endpoint.host} rejected the username/password of user "${creds.username}"`);
        }
        endpoints.set(endpoint.host, { kind: "basic", authorization: basicAuthorization(creds), username: creds.username });
        return;
      }
      if (challenges.length === 0) throw unauthenticated(`${what}: 401 Unauthorized without an authentication challenge`);
      throw notImplemented(`${what}: unsupported authentication scheme(s): ${challenges.map((c) => c.scheme).join(", ")}`);
    },
  };
}

function describeIdentity(creds: Credentials | undefined): string {
  if (creds === undefined) return "anonymous";
  return creds.username === "" ? "an identity token" : `user "${creds.username}"`;
}
