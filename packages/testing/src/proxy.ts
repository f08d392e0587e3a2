import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly range?: string | undefined;
  readonly authorization?: string | undefined;
  readonly headers: IncomingMessage["headers"];
  status: number;
  /** Response body bytes sent to the client. */
  bodyBytes: number;
}

type Rule =
  | { kind: "fail"; remaining: number; status: number; match: (r: IncomingMessage) => boolean }
  | { kind: "cut"; remaining: number; afterBytes: number; match: (r: IncomingMessage) => boolean }
  | { kind: "drop"; remaining: number; match: (r: IncomingMessage) => boolean };

/**
 * A small HTTP proxy in front of a real registry, for what a registry will not do on demand:
 * count the bytes it serves, fail the first N requests, drop a connection mid-body.
 */
export interface TestProxy {
  readonly host: string;
  readonly requests: ProxiedRequest[];
  /** The next `count` requests matching get `status` (default 503) without reaching the registry. */
  fail(count: number, match?: (r: IncomingMessage) => boolean, status?: number): void;
  /** The next `count` matching responses are cut (socket destroyed) after `afterBytes` body bytes. */
  cut(afterBytes: number, match: (r: IncomingMessage) => boolean, count?: number): void;
  /** The next `count` matching requests get their connection closed before any response. */
  drop(count: number, match?: (r: IncomingMessage) => boolean): void;
  /** Body bytes served for requests whose path contains `fragment`. */
  bytesServed(fragment: string): number;
  close(): Promise<void>;
}

export interface ProxyOptions {
  /** Maps a request path to the registry's (e.g. a custom API root to /v2). */
  readonly rewrite?: (path: string) => string;
  /** Response headers to leave out (lower case), to play an older or sloppier registry. */
  readonly dropResponseHeaders?: readonly string[];
}

export async function startProxy(upstream: string, opts: ProxyOptions = {}): Promise<TestProxy> {
  const [upHost, upPort] = upstream.split(":") as [string, string];
  const requests: ProxiedRequest[] = [];
  const rules: Rule[] = [];

  const take = (kind: Rule["kind"], req: IncomingMessage) => {
    const rule = rules.find((r) => r.kind === kind && r.remaining > 0 && r.match(req));
    if (rule) rule.remaining--;
    return rule;
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const entry: ProxiedRequest = {
      method: req.method ?? "",
      path: req.url ?? "",
      range: req.headers.range,
      authorization: req.headers.authorization,
      headers: req.headers,
      status: 0,
      bodyBytes: 0,
    };
    requests.push(entry);
    const fail = take("fail", req);
    if (fail && fail.kind === "fail") {
      entry.status = fail.status;
      req.resume();
      res.writeHead(fail.status, { "content-type": "text/plain" }).end("injected failure\n");
      return;
    }
    if (take("drop", req)) {
      entry.status = -1;
      req.socket.destroy();
      return;
    }
    const cut = take("cut", req);
    const up = request(
      { host: upHost, port: Number(upPort), method: req.method, path: opts.rewrite ? opts.rewrite(req.url ?? "/") : req.url, headers: req.headers },
      (upRes) => {
        entry.status = upRes.statusCode ?? 0;
        const headers = { ...upRes.headers };
        for (const name of opts.dropResponseHeaders ?? []) delete headers[name];
        res.writeHead(upRes.statusCode ?? 502, headers);
        let left = cut && cut.kind === "cut" ? cut.afterBytes : Infinity;
        upRes.on("data", (chunk: Buffer) => {
          if (left <= 0) return;
          const part = chunk.byteLength > left ? chunk.subarray(0, left) : chunk;
          left -= part.byteLength;
          entry.bodyBytes += part.byteLength;
          if (left > 0) {
            res.write(part);
            return;
          }
          upRes.destroy();
          // Let the bytes leave, then close the connection mid-body as a failing network would.
          res.write(part, () => res.socket?.end());
        });
        upRes.on("end", () => res.end());
      },
    );
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const port = (server.address() as AddressInfo).port;

  return {
    host: `127.0.0.1:${port}`,
    requests,
    fail(count, match = () => true, status = 503) {
      rules.push({ kind: "fail", remaining: count, status, match });
    },
    drop(count, match = () => true) {
      rules.push({ kind: "drop", remaining: count, match });
    },
    cut(afterBytes, match, count = 1) {
      rules.push({ kind: "cut", remaining: count, afterBytes, match });
    },
    bytesServed: (fragment) => requests.filter((r) => r.path.includes(fragment)).reduce((n, r) => n + r.bodyBytes, 0),
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
