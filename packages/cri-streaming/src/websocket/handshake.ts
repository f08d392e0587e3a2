import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";

const ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 §4.2.2). */
export function websocketAccept(key: string): string {
  return createHash("sha1").update(key + ACCEPT_GUID).digest("base64");
}

/** True when the request asks to upgrade to WebSocket (as opposed to SPDY). */
export function isWebSocketRequest(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? "").toLowerCase() === "websocket";
}

export type WebSocketHandshake =
  | { ok: true; protocol: string; response: string }
  | { ok: false; status: number; message: string };

function listHeader(value: string | string[] | undefined): string[] {
  const joined = Array.isArray(value) ? value.join(",") : (value ?? "");
  return joined.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * Validates a WebSocket upgrade and picks a subprotocol: the first one the client offers that
 * `supported` has; "" (no Sec-WebSocket-Protocol) only if `supported` includes "".
 */
export function negotiateWebSocket(req: IncomingMessage, supported: readonly string[]): WebSocketHandshake {
  if (req.method !== "GET") return { ok: false, status: 405, message: "websocket upgrade must use GET" };
  if (!listHeader(req.headers.connection).some((t) => t.toLowerCase() === "upgrade")) {
    return { ok: false, status: 400, message: "websocket upgrade needs Connection: Upgrade" };
  }
  if (req.headers["sec-websocket-version"] !== "13") {
    return { ok: false, status: 426, message: "unsupported Sec-WebSocket-Version (need 13)" };
  }
  const key = req.headers["sec-websocket-key"];
  if (typeof key !== "string" || Buffer.from(key, "base64").length !== 16) {
    return { ok: false, status: 400, message: "missing or malformed Sec-WebSocket-Key" };
  }
  const offered = listHeader(req.headers["sec-websocket-protocol"]);
  const candidates = offered.length > 0 ? offered : [""];
  const protocol = candidates.find((p) => supported.includes(p));
  if (protocol === undefined) {
    const accepted = supported.filter((p) => p !== "").join(", ");
    return { ok: false, status: 400, message: `requested websocket protocol(s) ${JSON.stringify(offered)} are not supported; supported: ${accepted}` };
  }
  const lines = [
    "HTTP/1.1 101 Switching Protocols",
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Accept: ${websocketAccept(key)}`,
  ];
  if (protocol !== "") lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
  return { ok: true, protocol, response: lines.join("\r\n") + "\r\n\r\n" };
}
