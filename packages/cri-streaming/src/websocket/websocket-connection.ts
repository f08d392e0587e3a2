import type { Duplex } from "node:stream";
import type { Logger } from "@berth/core";
import { silentLogger } from "@berth/core";
import { encodeWsFrame, Opcode, WebSocketProtocolError, WsFrameParser } from "./frames.js";

/** Largest message (after reassembly) we accept from a client. */
const MAX_MESSAGE = 16 * 1024 * 1024;
const CLOSE_GRACE_MS = 5_000;

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
  private readonly controller = new AbortController();
  private readonly log: Logger;
  private fragments: Buffer[] = [];
  private fragmentBytes = 0;
  private fragmentBinary = false;
  private inMessage = false;
  private closeSent = false;
  private finished = false;
  private drainWaiters: (() => void)[] = [];
  private resolveDone!: () => void;
  readonly done: Promise<void> = new Promise((r) => (this.resolveDone = r));

  constructor(private readonly socket: Duplex, head: Buffer, private readonly opts: WebSocketConnectionOptions) {
    this.log = opts.logger ?? silentLogger;
    socket.on("close", () => this.onClosed());
    socket.on("error", (err) => this.log.debug("websocket: socket error", { error: err.message }));
    socket.on("drain", () => {
      for (const w of this.drainWaiters.splice(0)) w();
    });
    const timeout = opts.idleTimeoutMs ?? 0;
    if (timeout > 0 && "setTimeout" in socket && typeof socket.setTimeout === "function") {
      (socket as unknown as { setTimeout(ms: number, cb: () => void): void }).setTimeout(timeout, () => void this.close(1001, "idle timeout"));
    }
    void this.readLoop(head);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Sends one message; resolves false if the connection is already closing or gone. */
  async send(data: Buffer, binary: boolean): Promise<boolean> {
    if (this.finished || this.closeSent) return false;
    if (!this.socket.write(encodeWsFrame(binary ? Opcode.Binary : Opcode.Text, data))) {
      await new Promise<void>((r) => this.drainWaiters.push(r));
    }
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
      this.socket.end();
    }
    const timer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
    timer.unref();
    await this.done;
    clearTimeout(timer);
  }

  destroy(): void {
    this.socket.destroy();
    this.onClosed();
  }

  private async readLoop(head: Buffer): Promise<void> {
    try {
      if (head.length > 0) await this.handleChunk(head);
      // destroyOnReturn: false, so that leaving the loop on a protocol error still lets us
      // write GOAWAY / a close frame before hanging up.
      for await (const chunk of this.socket.iterator({ destroyOnReturn: false })) {
        await this.handleChunk(chunk as Buffer);
        if (this.finished) return;
      }
      this.controller.abort(new Error("client closed the connection"));
      this.socket.end();
    } catch (err) {
      if (err instanceof WebSocketProtocolError) {
        this.log.warn("websocket: protocol error; closing", { error: err.message });
        await this.close(err.closeCode, err.message.slice(0, 120));
      } else if (!this.finished) {
        this.log.debug("websocket: read failed", { error: (err as Error).message });
        this.destroy();
      }
    }
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
          this.controller.abort(new Error("client closed the websocket"));
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

  private onClosed(): void {
    if (this.finished) return;
    this.finished = true;
    for (const w of this.drainWaiters.splice(0)) w();
    if (!this.controller.signal.aborted) this.controller.abort(new Error("connection closed"));
    this.resolveDone();
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
