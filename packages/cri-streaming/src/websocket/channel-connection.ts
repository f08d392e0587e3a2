import { Duplex } from "node:stream";
import type { Logger } from "@berth/core";
import { WebSocketConnection, type WebSocketMessage } from "./websocket-connection.js";

/** What a channel carries: the kubelet's wsstream channel types. */
export type ChannelKind = "ignore" | "read" | "write" | "readwrite";

export interface ChannelProtocolConfig {
  /** base64.channel.k8s.io variants: text frames, channel as an ASCII digit, payload base64. */
  base64: boolean;
  /** v5.channel.k8s.io: a message [255, n] half-closes channel n, in both directions. */
  closeSignal: boolean;
}

const CLOSE_SIGNAL = 255;

/**
 * One channel of the Kubernetes channel protocol as a Duplex. Reading gives what the client
 * sent on this channel; writing sends to the client. A channel the protocol does not let us
 * read ends at once; writes to a channel we may not write are dropped, as the kubelet does.
 */
export class WebSocketChannel extends Duplex {
  private waiters: (() => void)[] = [];

  constructor(
    readonly channel: number,
    readonly kind: ChannelKind,
    private readonly conn: ChannelConnection,
  ) {
    super({ allowHalfOpen: true, readableHighWaterMark: 256 * 1024 });
    if (kind !== "read" && kind !== "readwrite") this.push(null);
  }

  /** Delivers client data; resolves when the reader has room again. */
  async deliver(data: Buffer): Promise<void> {
    if (this.destroyed || this.readableEnded || (this.kind !== "read" && this.kind !== "readwrite")) return;
    if (!this.push(data)) await new Promise<void>((r) => this.waiters.push(r));
  }

  endFromPeer(): void {
    if (!this.destroyed && !this.readableEnded) this.push(null);
  }

  override _read(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.kind !== "write" && this.kind !== "readwrite") return cb();
    this.conn.sendOn(this.channel, chunk).then(
      (sent) => {
        if (!sent) this.destroy();
        cb();
      },
      (err: Error) => cb(err),
    );
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.conn.finishChannel(this.channel).then(() => cb(), (err: Error) => cb(err));
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    for (const w of this.waiters.splice(0)) w();
    cb(err);
  }
}

export interface ChannelConnectionOptions {
  protocol: ChannelProtocolConfig;
  channels: readonly ChannelKind[];
  logger?: Logger;
  idleTimeoutMs?: number;
}

/** A WebSocket carrying numbered channels (k8s.io/apimachinery's wsstream protocol). */
export class ChannelConnection {
  readonly ws: WebSocketConnection;
  readonly channels: WebSocketChannel[];

  constructor(socket: Duplex, head: Buffer, private readonly opts: ChannelConnectionOptions) {
    this.channels = opts.channels.map((kind, i) => new WebSocketChannel(i, kind, this));
    const wsOpts = {
      onMessage: (m: WebSocketMessage) => this.onMessage(m),
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.idleTimeoutMs ? { idleTimeoutMs: opts.idleTimeoutMs } : {}),
    };
    this.ws = new WebSocketConnection(socket, head, wsOpts);
    this.ws.signal.addEventListener("abort", () => {
      for (const c of this.channels) c.endFromPeer();
    });
    void this.ws.done.then(() => {
      for (const c of this.channels) c.destroy();
    });
  }

  get signal(): AbortSignal {
    return this.ws.signal;
  }

  /** Sends `data` on channel `n` (an empty payload is the kubelet's "ready" signal). */
  sendOn(n: number, data: Buffer): Promise<boolean> {
    if (this.opts.protocol.base64) {
      return this.ws.send(Buffer.from(String.fromCharCode(48 + n) + data.toString("base64"), "latin1"), false);
    }
    const frame = Buffer.allocUnsafe(data.length + 1);
    frame[0] = n;
    data.copy(frame, 1);
    return this.ws.send(frame, true);
  }

  async finishChannel(n: number): Promise<void> {
    if (this.opts.protocol.closeSignal) await this.ws.send(Buffer.from([CLOSE_SIGNAL, n]), true);
  }

  close(): Promise<void> {
    return this.ws.close(1000);
  }

  private async onMessage(m: WebSocketMessage): Promise<void> {
    if (m.data.length === 0) return;
    if (this.opts.protocol.closeSignal && m.binary && m.data[0] === CLOSE_SIGNAL) {
      if (m.data.length !== 2) return;
      this.channels[m.data[1]!]?.endFromPeer();
      return;
    }
    let n = m.data[0]!;
    let payload = m.data.subarray(1);
    if (this.opts.protocol.base64) {
      n -= 48;
      payload = Buffer.from(payload.toString("latin1"), "base64");
    }
    // Frames for channels that do not exist are dropped, as the kubelet does.
    await this.channels[n]?.deliver(payload);
  }
}
