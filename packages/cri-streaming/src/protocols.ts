/** SPDY subprotocols for exec/attach (X-Stream-Protocol-Version), newest first. */
export const REMOTE_COMMAND_SPDY_PROTOCOLS = ["v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"] as const;

/** The SPDY subprotocol for port forwarding. */
export const PORT_FORWARD_SPDY_PROTOCOL = "portforward.k8s.io";

export interface WebSocketProtocolInfo {
  base64: boolean;
  /** v4+: the error channel carries a JSON metav1.Status. */
  statusJson: boolean;
  /** v5: [255, n] half-closes a channel. */
  closeSignal: boolean;
}

/** WebSocket subprotocols for exec/attach; "" is a client that names none (binary, v1 errors). */
export const REMOTE_COMMAND_WS_PROTOCOLS: ReadonlyMap<string, WebSocketProtocolInfo> = new Map([
  ["v5.channel.k8s.io", { base64: false, statusJson: true, closeSignal: true }],
  ["v4.channel.k8s.io", { base64: false, statusJson: true, closeSignal: false }],
  ["v4.base64.channel.k8s.io", { base64: true, statusJson: true, closeSignal: false }],
  ["channel.k8s.io", { base64: false, statusJson: false, closeSignal: false }],
  ["base64.channel.k8s.io", { base64: true, statusJson: false, closeSignal: false }],
  ["", { base64: false, statusJson: false, closeSignal: false }],
]);

/** WebSocket subprotocols for port forwarding. */
export const PORT_FORWARD_WS_PROTOCOLS: ReadonlyMap<string, WebSocketProtocolInfo> = new Map([
  ["v4.channel.k8s.io", { base64: false, statusJson: true, closeSignal: false }],
  ["v4.base64.channel.k8s.io", { base64: true, statusJson: true, closeSignal: false }],
  ["", { base64: false, statusJson: true, closeSignal: false }],
]);

/** Stream header names and values of the kubelet protocols (k8s.io/api/core/v1). */
export const StreamHeader = {
  streamType: "streamtype",
  port: "port",
  requestId: "requestid",
} as const;

export const StreamType = {
  error: "error",
  stdin: "stdin",
  stdout: "stdout",
  stderr: "stderr",
  resize: "resize",
  data: "data",
} as const;

/**
 * Picks the first protocol the client lists (in its order) that the server supports, from
 * X-Stream-Protocol-Version header values (each may itself be a comma-separated list).
 */
export function negotiateStreamProtocol(clientValues: string | string[] | undefined, server: readonly string[]): string | undefined {
  const list = (Array.isArray(clientValues) ? clientValues : clientValues === undefined ? [] : [clientValues])
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
  return list.find((p) => server.includes(p));
}
