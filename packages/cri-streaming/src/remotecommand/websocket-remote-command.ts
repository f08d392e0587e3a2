import type { Duplex } from "node:stream";
import type { Logger } from "@berth/core";
import type { WebSocketProtocolInfo } from "../protocols.js";
import { writeAndWait } from "../stream-util.js";
import { ChannelConnection, type ChannelKind } from "../websocket/channel-connection.js";
import type { RemoteCommandSession, RequestedStreams } from "./remote-command-session.js";
import { encodeStatus } from "./status.js";

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;

export interface WebSocketRemoteCommandOptions {
  protocol: WebSocketProtocolInfo;
  requested: RequestedStreams;
  logger?: Logger;
  idleTimeoutMs: number;
}

/**
 * remotecommand over the Kubernetes channel protocol: channel 0 stdin, 1 stdout, 2 stderr,
 * 3 error, 4 resize. The socket must already have its 101 response written.
 */
export function acceptWebSocketRemoteCommand(socket: Duplex, head: Buffer, opts: WebSocketRemoteCommandOptions): RemoteCommandSession {
  const { requested } = opts;
  const channels: ChannelKind[] = [
    requested.stdin ? "read" : "ignore",
    requested.stdout ? "write" : "ignore",
    requested.stderr ? "write" : "ignore",
    "write",
    "read",
  ];
  const conn = new ChannelConnection(socket, head, {
    protocol: { base64: opts.protocol.base64, closeSignal: opts.protocol.closeSignal },
    channels,
    ...(opts.logger ? { logger: opts.logger } : {}),
    idleTimeoutMs: opts.idleTimeoutMs,
  });
  // An empty message on the first writable channel tells the client the streams are ready.
  void conn.sendOn(requested.stdout ? STDOUT : requested.stderr ? STDERR : ERROR, Buffer.alloc(0));
  const ch = conn.channels;
  return {
    ...(requested.stdin ? { stdin: ch[STDIN]! } : {}),
    ...(requested.stdout ? { stdout: ch[STDOUT]! } : {}),
    ...(requested.stderr ? { stderr: ch[STDERR]! } : {}),
    ...(requested.tty ? { resize: ch[RESIZE]! } : {}),
    tty: requested.tty,
    signal: conn.signal,
    async writeStatus(status) {
      const bytes = encodeStatus(status, opts.protocol.statusJson);
      if (bytes) await writeAndWait(ch[ERROR]!, bytes);
    },
    close: () => conn.close(),
  };
}
