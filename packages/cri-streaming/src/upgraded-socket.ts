import type { Duplex } from "node:stream";
import type { Logger } from "@berth/core";

/** How long a graceful hang-up waits for the peer to close before cutting the socket. */
const CLOSE_GRACE_MS = 5_000;

/** What a protocol (SPDY, WebSocket) does with the socket an HTTP upgrade handed over. */
export interface UpgradedSocketHandlers {
  /** Handles bytes as they arrive; reading waits for it, which is the inbound backpressure. */
  onChunk(chunk: Buffer): Promise<void>;
  /** The peer ended its side cleanly. */
  onPeerEnded(): void;
  /** A violation of the protocol in what the peer sent: tell the peer, then hang up. */
  isProtocolError(err: unknown): boolean;
  onProtocolError(err: Error): void | Promise<void>;
  /** Nothing went either way for `idleTimeoutMs`. */
  onIdle(): void;
  /** The socket closed (once), before `signal` aborts and `done` resolves. */
  onClosed(): void;
}

export interface UpgradedSocketOptions {
  /** Prefix of log messages: "spdy", "websocket". */
  name: string;
  logger: Logger;
  /** 0 = never idle. */
  idleTimeoutMs: number;
}

/**
 * The connection bookkeeping both streaming protocols share: one read loop over the socket,
 * writers waiting for drain, a signal aborted and a promise resolved exactly once when the
 * socket closes however it closes, an idle timer and a bounded graceful hang-up.
 */
export class UpgradedSocket {
  private readonly controller = new AbortController();
  private drainWaiters: (() => void)[] = [];
  private closed = false;
  private resolveDone!: () => void;
  /** Resolves once the socket has closed. */
  readonly done: Promise<void> = new Promise((r) => (this.resolveDone = r));

  constructor(
    readonly socket: Duplex,
    private readonly handlers: UpgradedSocketHandlers,
    private readonly opts: UpgradedSocketOptions,
  ) {
    socket.on("close", () => this.onSocketClosed());
    socket.on("error", (err) => opts.logger.debug(`${opts.name}: socket error`, { error: err.message }));
    socket.on("drain", () => this.wakeDrainWaiters());
    if (opts.idleTimeoutMs > 0 && "setTimeout" in socket && typeof socket.setTimeout === "function") {
      (socket as unknown as { setTimeout(ms: number, cb: () => void): void }).setTimeout(opts.idleTimeoutMs, () => handlers.onIdle());
    }
  }

  /** Aborted when the connection ends, by either side or by error. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True once the socket has closed. */
  get finished(): boolean {
    return this.closed;
  }

  /** Aborts `signal` with `reason` unless it already is. */
  abort(reason: Error): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  /** Resolves when the socket drains, or when it closes. */
  waitForDrain(): Promise<void> {
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Starts reading, `head` (what came with the upgrade request) first. */
  start(head: Buffer): void {
    void this.readLoop(head);
  }

  /**
   * Ends our side once everything queued is written and waits for the peer to hang up,
   * cutting the socket if it does not within a grace period.
   */
  async hangUp(): Promise<void> {
    if (!this.socket.writableEnded && !this.socket.destroyed) this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
    timer.unref();
    await this.done;
    clearTimeout(timer);
  }

  /** Abrupt close. */
  destroy(): void {
    this.socket.destroy();
    this.onSocketClosed();
  }

  private async readLoop(head: Buffer): Promise<void> {
    try {
      if (head.length > 0) await this.handlers.onChunk(head);
      // destroyOnReturn: false, so that leaving the loop on a protocol error still lets the
      // protocol write its last frame (GOAWAY, close) before hanging up.
      for await (const chunk of this.socket.iterator({ destroyOnReturn: false })) {
        await this.handlers.onChunk(chunk as Buffer);
        if (this.closed) return;
      }
      this.handlers.onPeerEnded();
    } catch (err) {
      if (this.handlers.isProtocolError(err)) {
        this.opts.logger.warn(`${this.opts.name}: protocol error; closing the connection`, { error: (err as Error).message });
        await this.handlers.onProtocolError(err as Error);
      } else if (!this.closed) {
        this.opts.logger.debug(`${this.opts.name}: connection read failed`, { error: (err as Error).message });
        this.destroy();
      }
    }
  }

  private wakeDrainWaiters(): void {
    for (const w of this.drainWaiters.splice(0)) w();
  }

  private onSocketClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers.onClosed();
    this.wakeDrainWaiters();
    this.abort(new Error("connection closed"));
    this.resolveDone();
  }
}
