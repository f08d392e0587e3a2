import { readFile } from "node:fs/promises";
import { rootCertificates } from "node:tls";
import { Agent, request, type Dispatcher } from "undici";
import { invalidArgument } from "@berth/core";
import type { RegistryHost, TlsSettings } from "../hosts/registry-host.js";

export type HeaderValues = Record<string, string | readonly string[]>;

export interface HttpRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: HeaderValues;
  /** A fresh body per call: bodies are produced again when a request is retried. */
  readonly body?: Uint8Array | AsyncIterable<Uint8Array> | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface HttpResponse {
  readonly status: number;
  readonly url: URL;
  /** Lower-case names. */
  header(name: string): string | undefined;
  headerValues(name: string): string[];
  readonly body: AsyncIterable<Uint8Array>;
  /** Reads the body (at most `limit` bytes, default 64 KiB) as text. */
  text(limit?: number): Promise<string>;
  /** Discards the rest of the body so the connection can be reused. */
  discard(): Promise<void>;
}

/**
 * HTTP for registry endpoints: one undici connection pool per TLS setting, shared by every
 * request of a resolver. Closing it ends the pools.
 */
export interface HttpClient {
  send(host: Pick<RegistryHost, "tls" | "dialTimeoutMs">, req: HttpRequest): Promise<HttpResponse>;
  close(): Promise<void>;
}

export function createHttpClient(): HttpClient {
  const pools = new Map<string, Promise<Agent>>();
  const poolFor = (host: Pick<RegistryHost, "tls" | "dialTimeoutMs">) => {
    const key = JSON.stringify([host.tls ?? null, host.dialTimeoutMs ?? null]);
    let pool = pools.get(key);
    if (pool === undefined) {
      pool = createAgent(host.tls, host.dialTimeoutMs);
      pools.set(key, pool);
      pool.catch(() => pools.delete(key));
    }
    return pool;
  };

  return {
    async send(host, req) {
      const dispatcher = await poolFor(host);
      const res = await request(req.url, {
        dispatcher,
        method: req.method as Dispatcher.HttpMethod,
        headers: req.headers as Record<string, string | string[]>,
        body: req.body as Dispatcher.DispatchOptions["body"],
        signal: req.signal,
      });
      return wrapResponse(req.url, res);
    },
    async close() {
      const all = [...pools.values()];
      pools.clear();
      await Promise.allSettled(all.map(async (p) => (await p).close()));
    },
  };
}

async function createAgent(tls: TlsSettings | undefined, dialTimeoutMs: number | undefined): Promise<Agent> {
  const connect: Record<string, unknown> = {};
  if (dialTimeoutMs !== undefined) connect["timeout"] = dialTimeoutMs;
  if (tls?.skipVerify) connect["rejectUnauthorized"] = false;
  if (tls?.caFiles !== undefined && tls.caFiles.length > 0) {
    // Node's `ca` replaces the built-in roots; hosts.toml's ca adds to them.
    const extra = await Promise.all(tls.caFiles.map((f) => readPem(f, "CA certificate")));
    connect["ca"] = [...rootCertificates, ...extra];
  }
  const pair = tls?.clientPairs?.[0];
  if (pair !== undefined) {
    const [certFile, keyFile] = pair;
    const cert = await readPem(certFile, "client certificate");
    connect["cert"] = cert;
    connect["key"] = keyFile === undefined ? cert : await readPem(keyFile, "client key");
  }
  return new Agent({ connect, keepAliveTimeout: 30_000 });
}

async function readPem(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    throw invalidArgument(`cannot read ${what} ${file}: ${(err as Error).message}`, err);
  }
}

function wrapResponse(url: URL, res: Dispatcher.ResponseData): HttpResponse {
  const values = (name: string): string[] => {
    const v = res.headers[name];
    return v === undefined ? [] : Array.isArray(v) ? v : [v as string];
  };
  return {
    status: res.statusCode,
    url,
    header: (name) => values(name)[0],
    headerValues: values,
    body: res.body,
    async text(limit = 64 * 1024) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        chunks.push(chunk as Buffer);
        size += (chunk as Buffer).byteLength;
        if (size >= limit) break;
      }
      if (size >= limit) res.body.destroy();
      return Buffer.concat(chunks).subarray(0, limit).toString("utf8");
    },
    async discard() {
      try {
        await res.body.dump({ limit: 64 * 1024 });
      } catch {
        // Nothing to keep: a failed discard only costs the connection.
      }
    },
  };
}
