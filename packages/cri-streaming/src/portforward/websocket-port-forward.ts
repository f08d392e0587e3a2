import type { Duplex } from "node:stream";
import type { Logger } from "@berth/core";
import type { WebSocketProtocolInfo } from "../protocols.js";
import { writeAndWait } from "../stream-util.js";
import { ChannelConnection, type ChannelKind } from "../websocket/channel-connection.js";
import type { StreamingHandlers } from "../types.js";
import { forwardOne } from "./forward-one.js";

export interface WebSocketPortForwardOptions {
  podSandboxId: string;
  ports: readonly number[];
  protocol: WebSocketProtocolInfo;
  handlers: StreamingHandlers;
  logger: Logger;
  idleTimeoutMs: number;
}

/**
 * Port forwarding over the channel protocol: two channels per port (2i data, 2i+1 error),
 * each opened by a message with the port as two little-endian bytes; one connection per port.
 */
export async function serveWebSocketPortForward(socket: Duplex, head: Buffer, opts: WebSocketPortForwardOptions): Promise<void> {
  const channels: ChannelKind[] = opts.ports.flatMap(() => ["readwrite", "write"] as ChannelKind[]);
  const conn = new ChannelConnection(socket, head, {
    protocol: { base64: opts.protocol.base64, closeSignal: opts.protocol.closeSignal },
    channels,
    logger: opts.logger,
    idleTimeoutMs: opts.idleTimeoutMs,
  });
  const runs = opts.ports.map(async (port, i) => {
    const data = conn.channels[2 * i]!;
    const error = conn.channels[2 * i + 1]!;
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port);
    await writeAndWait(data, portBytes);
    await writeAndWait(error, portBytes);
    await forwardOne(opts.handlers, opts.podSandboxId, port, data, error, conn.signal, opts.logger);
  });
  await Promise.allSettled(runs);
  await conn.close();
}
