import type { Duplex } from "node:stream";
import { STATUS_CODES } from "node:http";

const REASONS: Record<number, string> = {
  400: "BadRequest",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  426: "BadRequest",
  500: "InternalError",
};

/**
 * Answers on a socket we took over for an upgrade (no ServerResponse there), then closes it.
 * The body is a JSON metav1.Status: client-go decodes a failed upgrade's body as one (JSON or
 * YAML), so plain text such as "not found: token expired" would parse as a YAML mapping and
 * reach the user as an empty error. As a Status, the message shows as is.
 */
export function rejectUpgrade(socket: Duplex, status: number, message: string, extraHeaders: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const body = Buffer.from(
    JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason: REASONS[status] ?? "", code: status }) + "\n",
  );
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}`,
    "Content-Type: application/json",
    `Content-Length: ${body.length}`,
    "Connection: close",
    ...Object.entries(extraHeaders).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n\r\n"), body]));
}
