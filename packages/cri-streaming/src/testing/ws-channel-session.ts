// The kubelet's WebSocket channel protocol (v4.channel.k8s.io) from a client's side, as exec,
// attach and port-forward tests want it: bytes per channel (the first byte of each message),
// sending on a channel, and the close.
import { WsTestClient } from "./ws-test-client.js";

export interface WsSession {
  /** Bytes received so far, per channel. */
  readonly channels: Map<number, Buffer>;
  send(channel: number, data: Buffer | string): void;
  /** Resolves when the server closed the connection. */
  readonly closed: Promise<void>;
  close(): void;
}

const TEXT = 0x1;
const BINARY = 0x2;
const CLOSE = 0x8;

/** Opens a session on a streaming URL; fails unless the server upgrades to a WebSocket. */
export async function openWsSession(url: string, protocol = "v4.channel.k8s.io", query = ""): Promise<WsSession> {
  const { client, response } = await WsTestClient.connect(url + query, [protocol]);
  if (!client) throw new Error(`no upgrade: HTTP ${response.status}`);
  return {
    get channels() {
      return channelsOf(client);
    },
    closed: client.closed,
    send: (channel, data) => client.send(BINARY, Buffer.concat([Buffer.from([channel]), Buffer.from(data)])),
    close: () => {
      client.send(CLOSE, Buffer.alloc(0));
      client.socket.end();
    },
  };
}

function channelsOf(client: WsTestClient): Map<number, Buffer> {
  const channels = new Map<number, Buffer>();
  for (const { opcode, data } of client.messages) {
    if ((opcode !== TEXT && opcode !== BINARY) || data.length === 0) continue;
    const channel = data[0]!;
    channels.set(channel, Buffer.concat([channels.get(channel) ?? Buffer.alloc(0), data.subarray(1)]));
  }
  return channels;
}
