import type { Duplex } from "node:stream";
import type { Logger } from "@berth/core";
import { silentLogger } from "@berth/core";
import { UpgradedSocket } from "../upgraded-socket.js";
import { encodeWsFrame, Opcode, WebSocketProtocolError, WsFrameParser } from "./frames.js";

/** Largest message (after reassembly) we accept from a client. */
const MAX_MESSAGE = 16 * 1024 * 1024;

export interface WebSocketMessage {
  binary: boolean;
  data: Buffer;
}

export interface WebSocketConnectionOptions {
  onMessage(message: WebSocketMessage): void | Promise<void>;
  logger?: Logger;
  idleTimeoutMs?: number;
}

/**
 * A server-side WebSocket over an upgraded socket: reassembles fragmented messages, answers
 * pings, completes the closing handshake, and closes with 1002/1009 on protocol violations.
 * Messages are handed over in order; a slow `onMessage` holds back reading (backpressure).
 */
export class WebSocketConnection {
  private readonly parser = new WsFrameParser(MAX_MESSAGE);
  private readonly conn: UpgradedSocket;
  private fragments: Buffer[] = [];
  private fragmentBytes = 0;
  private fragmentBinary = false;
  private inMessage = false;
  private closeSent = false;

  constructor(socket: Duplex, head: Buffer, private readonly opts: WebSocketConnectionOptions) {
    this.conn = new UpgradedSocket(
      socket,
      {
        onChunk: (chunk) => this.handleChunk(chunk),
        onPeerEnded: () => {
          this.conn.abort(new Error("client closed the connection"));
          this.socket.end();
        },
        isProtocolError: (err) => err instanceof WebSocketProtocolError,
        onProtocolError: (err) => this.close((err as WebSocketProtocolError).closeCode, err.message.slice(0, 120)),
        onIdle: () => void this.close(1001, "idle timeout"),
        onClosed: () => undefined,
      },
      { name: "websocket", logger: opts.logger ?? silentLogger, idleTimeoutMs: opts.idleTimeoutMs ?? 0 },
    );
    this.conn.start(head);
  }

  /** Resolves once the socket has closed. */
  get done(): Promise<void> {
    return this.conn.done;
  }

  get signal(): AbortSignal {
    return this.conn.signal;
  }

  private get finished(): boolean {
    return this.conn.finished;
  }

  private get socket(): Duplex {
    return this.conn.socket;
  }

  /** Sends one message; resolves false if the connection is already closing or gone. */
  async send(data: Buffer, binary: boolean): Promise<boolean> {
    if (this.finished || this.closeSent) return false;
    if (!this.socket.write(encodeWsFrame(binary ? Opcode.Binary : Opcode.Text, data))) await this.conn.waitForDrain();
    return !this.finished;
  }

  /** Starts the closing handshake and resolves once the socket is closed. */
  async close(code = 1000, reason = ""): Promise<void> {
    if (!this.finished && !this.closeSent) {
      this.closeSent = true;
      const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
      payload.writeUInt16BE(code, 0);
      payload.write(reason, 2);
      this.socket.write(encodeWsFrame(Opcode.Close, payload));
    }
    await this.conn.hangUp();
  }

  destroy(): void {
    this.conn.destroy();
  }

  private async handleChunk(chunk: Buffer): Promise<void> {
    for (const frame of this.parser.push(chunk)) {
      if (this.finished) return;
      switch (frame.opcode) {
        case Opcode.Ping:
          if (!this.closeSent) this.socket.write(encodeWsFrame(Opcode.Pong, frame.payload));
          break;
        case Opcode.Pong:
          break;
        case Opcode.Close:
          // Echo the code (RFC 6455 §5.5.1), then hang up.
          this.conn.abort(new Error("client closed the websocket"));
          if (!this.closeSent) {
            this.closeSent = true;
            this.socket.write(encodeWsFrame(Opcode.Close, frame.payload.subarray(0, 2)));
          }
          this.socket.end();
          return;
        case Opcode.Continuation:
          if (!this.inMessage) throw new WebSocketProtocolError("continuation frame without a message to continue");
          this.addFragment(frame.payload);
          if (frame.fin) await this.finishMessage();
          break;
        default:
          if (this.inMessage) throw new WebSocketProtocolError("new message started before the previous one finished");
          this.inMessage = true;
          this.fragmentBinary = frame.opcode === Opcode.Binary;
          this.addFragment(frame.payload);
          if (frame.fin) await this.finishMessage();
      }
    }
  }

  private addFragment(payload: Buffer): void {
    this.fragmentBytes += payload.length;
    if (this.fragmentBytes > MAX_MESSAGE) throw new WebSocketProtocolError("message too large", 1009);
    this.fragments.push(payload);
  }

  private async finishMessage(): Promise<void> {
    const data = Buffer.concat(this.fragments, this.fragmentBytes);
    const binary = this.fragmentBinary;
    this.fragments = [];
    this.fragmentBytes = 0;
    this.inMessage = false;
    if (!binary && !isValidUtf8(data)) throw new WebSocketProtocolError("text message is not valid UTF-8", 1007);
    await this.opts.onMessage({ binary, data });
  }
}

function isValidUtf8(data: Buffer): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(data);
    return true;
  } catch {
    return false;
  }
}
