import { createPrivateKey, randomUUID, sign } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { certDerBase64 } from "./certs.js";

export interface TokenRequestRecord {
  readonly user: string | undefined;
  readonly scopes: string[];
  readonly service: string | null;
  readonly status: number;
}

export interface TokenServer {
  /** http://127.0.0.1:<port>/token */
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  readonly requests: TokenRequestRecord[];
  close(): Promise<void>;
}

export interface TokenServerOptions {
  readonly signingCert: string;
  readonly signingKey: string;
  /** user → password; a user gets every action it asks for. */
  readonly users: Readonly<Record<string, string>>;
  /** user → identity (refresh) token, exchanged by OAuth2 POST. */
  readonly identityTokens?: Readonly<Record<string, string>>;
  /** Repositories anyone may pull without credentials. */
  readonly publicRepositories?: readonly string[];
}

/**
 * A token server as docker's token spec describes: GET /token?service=&scope=… with optional
 * Basic credentials; answers a JWT (RS256, x5c = the signing certificate, which the registry
 * trusts as its rootcertbundle) granting the scopes the caller may have.
 */
export async function startTokenServer(opts: TokenServerOptions): Promise<TokenServer> {
  const key = createPrivateKey(await readFile(opts.signingKey, "utf8"));
  const x5c = [await certDerBase64(opts.signingCert)];
  const service = "berth-test-registry";
  const issuer = "berth-test-issuer";
  const requests: TokenRequestRecord[] = [];

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://token");
    if (req.method === "POST") {
      // OAuth2 form (identity tokens): the same parameters, in the body.
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString())) url.searchParams.append(k, v);
    }
    const scopes = url.searchParams.getAll("scope").flatMap((s) => s.split(" ")).filter(Boolean);
    const reply = (status: number, body: unknown, user?: string) => {
      requests.push({ user, scopes, service: url.searchParams.get("service"), status });
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    let user: string | undefined;
    const auth = req.headers.authorization;
    const refresh = url.searchParams.get("grant_type") === "refresh_token" ? url.searchParams.get("refresh_token") : null;
    if (refresh !== null) {
      user = Object.keys(opts.identityTokens ?? {}).find((u) => opts.identityTokens![u] === refresh);
      if (user === undefined) return reply(401, { error: "invalid_grant" }, "(identity token)");
    } else if (auth !== undefined) {
      const [scheme, value = ""] = auth.split(" ");
      const [name = "", password] = Buffer.from(value, "base64").toString().split(/:(.*)/s);
      if (scheme !== "Basic" || opts.users[name] === undefined || opts.users[name] !== password) {
        return reply(401, { errors: [{ code: "UNAUTHORIZED", message: "invalid username or password" }] }, name);
      }
      user = name;
    }
    const access = scopes.map((scope) => {
      const parts = scope.split(":");
      const type = parts[0]!;
      const actions = parts[parts.length - 1]!.split(",");
      const name = parts.slice(1, -1).join(":");
      const allowed = user !== undefined ? actions : opts.publicRepositories?.includes(name) ? actions.filter((a) => a === "pull") : [];
      return { type, name, actions: allowed };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: "JWT", alg: "RS256", x5c };
    const claims = { iss: issuer, sub: user ?? "", aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const signingInput = `${encode(header)}.${encode(claims)}`;
    const signature = sign("sha256", Buffer.from(signingInput), key).toString("base64url");
    const token = `${signingInput}.${signature}`;
    const body = refresh !== null ? { access_token: token, expires_in: 300 } : { token, expires_in: 300, issued_at: new Date(now * 1000).toISOString() };
    reply(200, body, user);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    requests,
    close: () => new Promise<void>((ok) => (server.closeAllConnections(), server.close(() => ok()))),
  };
}
