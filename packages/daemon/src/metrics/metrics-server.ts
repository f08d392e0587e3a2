import { createServer, type Server } from "node:http";
import type { MetricsRegistry } from "./registry.js";

/** Serves `registry` at /v1/metrics on `address` (host:port), as containerd does. */
export async function serveMetrics(address: string, registry: MetricsRegistry): Promise<Server> {
  const at = address.lastIndexOf(":");
  const host = address.slice(0, at) || "127.0.0.1";
  const port = Number(address.slice(at + 1));
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url?.split("?")[0] === "/v1/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(registry.render());
    } else {
      res.writeHead(404).end("not found\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host.replace(/^\[|\]$/g, ""), () => resolve());
  });
  return server;
}
