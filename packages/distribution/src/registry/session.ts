import { isBerthError, unauthenticated, unavailable, type Logger } from "@berth/core";
import { parseChallenges } from "../auth/challenge.js";
import type { Authorizer } from "../auth/authorizer.js";
import type { HttpClient, HttpResponse } from "../http/http-client.js";
import { backoff, isRetriableStatus, isTlsProtocolError, isTransientError, type RetryPolicy } from "../http/retry.js";
import type { RegistryHost } from "../hosts/registry-host.js";
import { responseError } from "./registry-error.js";

/** Everything requests of one resolver share: connections, auth state, policies. */
export interface Session {
  readonly http: HttpClient;
  readonly authorizer: Authorizer;
  readonly retry: RetryPolicy;
  readonly userAgent: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly logger: Logger;
  /** Endpoints (host[:port]) found to speak plain HTTP after a failed TLS handshake. */
  readonly plainEndpoints: Set<string>;
}

export interface RegistryRequest {
  readonly method: "GET" | "HEAD" | "PUT" | "POST" | "PATCH" | "DELETE";
  /** Below /v2/<repository>/ — e.g. "manifests/latest", "blobs/uploads/" — or an absolute URL (upload Location). */
  readonly target: string | URL;
  readonly repository: string;
  /** The reference's registry domain: an endpoint that is not that registry gets ?ns=<domain>. */
  readonly domain: string;
  readonly query?: Readonly<Record<string, string>> | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Called once per attempt, so a retried request sends its body again. */
  readonly body?: (() => Uint8Array | AsyncIterable<Uint8Array>) | undefined;
  /** Token scopes, e.g. "repository:library/busybox:pull". */
  readonly scopes: readonly string[];
  readonly signal?: AbortSignal | undefined;
  /** Repeat after 5xx and dropped connections (default true); off for a mirror that is not the last one. */
  readonly retry?: boolean | undefined;
  /** For messages: "resolve 127.0.0.1:5000/tiny:latest". */
  readonly what: string;
}

const MAX_AUTH_ROUNDS = 2;
const MAX_REDIRECTS = 10;

/**
 * Sends one request to one endpoint: authorization (learning it from 401 challenges), HEAD→GET
 * where a registry refuses HEAD on manifests, redirects, the HTTPS→HTTP fallback and retries
 * with backoff. Returns any final response but 401, which becomes Unauthenticated; transport
 * failures become Unavailable.
 */
export async function send(session: Session, endpoint: RegistryHost, req: RegistryRequest): Promise<HttpResponse> {
  let method: string = req.method;
  let url = requestUrl(session, endpoint, req);
  let failures = 0;
  let authRounds = 0;
  let redirects = 0;
  const retry = req.retry !== false;

  for (;;) {
    req.signal?.throwIfAborted();
    // Auth and TLS follow the URL: a redirect to blob storage elsewhere gets neither our token nor our headers.
    const target: RegistryHost = url.host === endpoint.host ? endpoint : { ...endpoint, host: url.host, header: {} };
    const authorization = await session.authorizer.authorize(target, req.scopes, req.signal);
    const headers: Record<string, string | readonly string[]> = {
      "user-agent": session.userAgent,
      ...session.headers,
      ...lowerCaseKeys(target.header ?? {}),
      ...lowerCaseKeys(req.headers ?? {}),
    };
    if (authorization !== undefined) headers["authorization"] = authorization;

    let res: HttpResponse;
    try {
      res = await session.http.send(target, { method, url, headers, body: req.body?.(), signal: req.signal });
    } catch (err) {
      if (req.signal?.aborted || isBerthError(err)) throw err;
      if (endpoint.httpFallback && url.protocol === "https:" && url.host === endpoint.host && isTlsProtocolError(err)) {
        session.logger.debug("endpoint does not speak TLS; using plain HTTP", { host: endpoint.host });
        session.plainEndpoints.add(endpoint.host);
        url = new URL(url.href.replace(/^https:/, "http:"));
        continue;
      }
      if (retry && isTransientError(err) && ++failures < session.retry.attempts) {
        session.logger.debug("transient transport error, retrying", { what: req.what, url: redact(url), error: err });
        await backoff(session.retry, failures, req.signal);
        continue;
      }
      throw unavailable(`${req.what}: ${method} ${redact(url)}: ${describeError(err)}`, err);
    }

    if (res.status === 401) {
      if (authRounds++ < MAX_AUTH_ROUNDS) {
        const challenges = parseChallenges(res.headerValues("www-authenticate"));
        await res.discard();
        await session.authorizer.challenged(target, challenges, authorization, `${req.what}: ${method} ${redact(url)}`);
        continue;
      }
      const challenge = parseChallenges(res.headerValues("www-authenticate"))[0];
      const reason = [challenge?.params["error"], challenge?.params["scope"]].filter(Boolean).join(" for ");
      const err = await responseError(res, `${req.what}: ${method} ${redact(url)}`);
      throw unauthenticated(
        `${err.message}${reason ? ` (${reason})` : ""}: the registry refused ${session.authorizer.identity(target)}; ` +
          `check the credentials and their access to ${req.repository}`,
        err,
      );
    }
    if (res.status === 405 && method === "HEAD" && url.pathname.includes("/manifests/")) {
      await res.discard();
      method = "GET";
      continue;
    }
    const location = res.header("location");
    if (isRedirect(res.status) && location !== undefined && method !== "PUT" && method !== "PATCH" && method !== "POST") {
      await res.discard();
      if (++redirects > MAX_REDIRECTS) throw unavailable(`${req.what}: more than ${MAX_REDIRECTS} redirects from ${redact(url)}`);
      url = new URL(location, url);
      if (res.status === 303) method = "GET";
      continue;
    }
    if (retry && isRetriableStatus(res.status) && ++failures < session.retry.attempts) {
      const retryAfter = res.header("retry-after");
      await res.discard();
      session.logger.debug("registry busy, retrying", { what: req.what, url: redact(url), status: res.status });
      await backoff(session.retry, failures, req.signal, retryAfter);
      continue;
    }
    return res;
  }
}

/** The URL of a request on an endpoint: scheme://host/v2/<repository>/<target>[?query&ns=…]. */
function requestUrl(session: Session, endpoint: RegistryHost, req: RegistryRequest): URL {
  let url: URL;
  if (req.target instanceof URL) {
    url = new URL(req.target.href);
  } else {
    const scheme = session.plainEndpoints.has(endpoint.host) ? "http" : endpoint.scheme;
    url = new URL(`${scheme}://${endpoint.host}${endpoint.path}/${req.repository}/${req.target}`);
  }
  for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v);
  if (isMirror(endpoint, req.domain) && url.host === endpoint.host) url.searchParams.set("ns", req.domain);
  return url;
}

/** An endpoint serving another registry's content (containerd's isProxy): it needs ?ns=. */
function isMirror(endpoint: RegistryHost, domain: string): boolean {
  if (endpoint.host === domain) return false;
  return !(domain === "docker.io" && endpoint.host === "registry-1.docker.io");
}

const isRedirect = (status: number) => status === 301 || status === 302 || status === 303 || status === 307 || status === 308;

function lowerCaseKeys<V>(record: Readonly<Record<string, V>>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const [k, v] of Object.entries(record)) out[k.toLowerCase()] = v;
  return out;
}

/** Query parameters that carry no secret (others, like upload state or signatures, are hidden). */
const SHOWN_QUERY_KEYS = new Set(["ns", "digest", "mount", "from"]);

/** A URL without query values (upload state, signed-URL secrets) for messages and logs. */
export function redact(url: URL): string {
  const copy = new URL(url.href);
  copy.username = "";
  copy.password = "";
  for (const key of [...copy.searchParams.keys()]) {
    if (!SHOWN_QUERY_KEYS.has(key)) copy.searchParams.set(key, "…");
  }
  return copy.href;
}

function describeError(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    const text = code && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
    if (!parts.includes(text)) parts.push(text);
  }
  const text = parts.join(": ") || String(err);
  return text + tlsHint(text);
}

/** What to change in hosts.toml for the usual TLS failures. */
function tlsHint(text: string): string {
  if (/alert (bad certificate|certificate required|handshake failure)|alert number (40|42|116)/i.test(text)) {
    return "; the registry may require a client certificate (hosts.toml client = [[cert, key]])";
  }
  if (/UNABLE_TO_VERIFY|SELF_SIGNED|DEPTH_ZERO|CERT_UNTRUSTED|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT_ALTNAME/.test(text)) {
    return "; trust the registry's CA with hosts.toml ca = \"…\" (or skip_verify = true)";
  }
  return "";
}
