import { unauthenticated, unavailable } from "@berth/core";
import type { HttpClient } from "../http/http-client.js";
import type { RegistryHost } from "../hosts/registry-host.js";
import { responseError } from "../registry/registry-error.js";
import type { Credentials } from "./credentials.js";

export interface TokenRequest {
  readonly realm: string;
  readonly service?: string | undefined;
  readonly scopes: readonly string[];
  readonly credentials?: Credentials | undefined;
  readonly userAgent: string;
  readonly signal?: AbortSignal | undefined;
}

export interface IssuedToken {
  readonly token: string;
  /** ms since the epoch after which the token is not reused. */
  readonly expiresAt: number;
}

/** The token spec's default lifetime when the server does not say. */
const DEFAULT_LIFETIME_S = 60;
/** Renew a little early so a token does not expire between check and use. */
const EXPIRY_MARGIN_MS = 5_000;

/**
 * Asks a token server for a bearer token (docker's token spec): GET with Basic credentials, or
 * anonymous; an identity token goes through OAuth2's refresh_token grant (POST).
 */
export async function fetchToken(http: HttpClient, endpoint: RegistryHost, req: TokenRequest): Promise<IssuedToken> {
  let url: URL;
  try {
    url = new URL(req.realm);
  } catch {
    throw unauthenticated(`${endpoint.host}: the auth challenge's realm "${req.realm}" is not a URL`);
  }
  const headers: Record<string, string> = { "user-agent": req.userAgent, accept: "application/json" };
  let body: Uint8Array | undefined;
  let method = "GET";
  const creds = req.credentials;
  if (creds !== undefined && creds.username === "") {
    method = "POST";
    const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: creds.password, client_id: "berth" });
    if (req.service) form.set("service", req.service);
    if (req.scopes.length > 0) form.set("scope", req.scopes.join(" "));
    body = Buffer.from(form.toString());
    headers["content-type"] = "application/x-www-form-urlencoded; charset=utf-8";
  } else {
    if (req.service) url.searchParams.set("service", req.service);
    for (const scope of req.scopes) url.searchParams.append("scope", scope);
    if (creds !== undefined) headers["authorization"] = basicAuthorization(creds);
  }

  let res;
  try {
    res = await http.send(endpoint, { method, url, headers, body, signal: req.signal });
  } catch (err) {
    if (req.signal?.aborted) throw err;
    throw unavailable(`token server ${url.origin}${url.pathname} for ${endpoint.host}: ${(err as Error).message}`, err);
  }
  const who = creds === undefined ? "anonymous" : creds.username === "" ? "identity token" : `user "${creds.username}"`;
  if (res.status === 401 || res.status === 403) {
    const err = await responseError(res, `token server ${url.origin}${url.pathname}`);
    throw unauthenticated(`${endpoint.host}: the token server rejected the credentials (${who}): ${err.message}`, err);
  }
  if (res.status < 200 || res.status >= 300) {
    throw await responseError(res, `token server ${url.origin}${url.pathname} (${who})`);
  }
  const text = await res.text(1024 * 1024);
  let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw unauthenticated(`token server ${url.origin}${url.pathname}: the response is not JSON`);
  }
  const token = typeof parsed.access_token === "string" && parsed.access_token !== "" ? parsed.access_token : parsed.token;
  if (typeof token !== "string" || token === "") {
    throw unauthenticated(`token server ${url.origin}${url.pathname}: the response has no token`);
  }
  const lifetime = typeof parsed.expires_in === "number" && parsed.expires_in > 0 ? parsed.expires_in : DEFAULT_LIFETIME_S;
  const issued = typeof parsed.issued_at === "string" ? Date.parse(parsed.issued_at) : NaN;
  const start = Number.isFinite(issued) && issued <= Date.now() ? issued : Date.now();
  return { token, expiresAt: start + lifetime * 1000 - EXPIRY_MARGIN_MS };
}

export function basicAuthorization(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
}
