import { Duplex } from "node:stream";
import type { SpdyHeaders } from "./header-block.js";
import { headerValue } from "./header-block.js";

/** What a stream needs from its session; the session implements it. */
export interface StreamOwner {
  sendData(stream: SpdyStream, data: Buffer): Promise<boolean>;
  sendFin(stream: SpdyStream): void;
  sendReset(stream: SpdyStream, status: number): void;
  creditReceived(stream: SpdyStream, bytes: number): void;
  forget(stream: SpdyStream): void;
}

/**
 * One SPDY stream as a Node Duplex: what the peer sends on it is readable, what we write goes
 * to the peer. `end()` half-closes our side (a DATA frame with FIN); `destroy()` before both
 * sides are closed resets the stream (RST_STREAM CANCEL). A reset from the peer destroys the
 * stream without an error, so an unattended stream never crashes the process; watch `close`.
 */
export class SpdyStream extends Duplex {
  /** Set once our SYN_REPLY is on the wire; writes wait for it (data may not precede it). */
  private replied = false;
  private replyWaiters: (() => void)[] = [];
  private drainWaiters: (() => void)[] = [];
  private pushedBytes = 0;
  private creditedBytes = 0;
  /** We sent FIN or the stream was unidirectional. */
  localClosed = false;
  /** The peer sent FIN. */
  remoteClosed = false;
  /** Reset by either side. */
  wasReset = false;
  /** Peer's receive window as we account for it (SPDY/3.1 flow control). */
  sendWindow: number;

  constructor(
    readonly id: number,
    readonly headers: SpdyHeaders,
    private readonly owner: StreamOwner,
    initialSendWindow: number,
    readonly priority = 0,
  ) {
    super({ allowHalfOpen: true, readableHighWaterMark: 256 * 1024, writableHighWaterMark: 64 * 1024 });
    this.sendWindow = initialSendWindow;
  }

  /** The first value of a header the peer sent with SYN_STREAM. */
  header(name: string): string | undefined {
    return headerValue(this.headers, name);
  }

  /** Called by the session once SYN_REPLY has been written. */
  markReplied(): void {
    this.replied = true;
    for (const w of this.replyWaiters.splice(0)) w();
  }

  /** Delivers peer data; false means the reader is behind and the session should wait. */
  deliver(data: Buffer): boolean {
    if (this.destroyed || this.readableEnded) return true;
    this.creditConsumed();
    this.pushedBytes += data.length;
    return this.push(data);
  }

  /** Credits the peer's window in batches, not per read: one WINDOW_UPDATE per 8 KiB consumed. */
  private creditConsumed(): void {
    const consumed = this.pushedBytes - this.readableLength;
    if (consumed - this.creditedBytes >= 8 * 1024) {
      this.owner.creditReceived(this, consumed - this.creditedBytes);
      this.creditedBytes = consumed;
    }
  }

  /** Resolves once the reader wants more (or the stream is gone). */
  readerCaughtUp(): Promise<void> {
    if (this.destroyed || this.readableLength < this.readableHighWaterMark) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** The peer sent FIN. */
  endFromPeer(): void {
    this.remoteClosed = true;
    if (!this.destroyed) this.push(null);
    if (this.localClosed) this.owner.forget(this);
  }

  /** The peer reset the stream, or the session ended. */
  abandon(): void {
    this.wasReset = true;
    this.localClosed = true;
    this.remoteClosed = true;
    this.destroy();
  }

  override _read(): void {
    this.creditConsumed();
    for (const w of this.drainWaiters.splice(0)) w();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const send = (): void => {
      this.owner.sendData(this, chunk).then(
        (sent) => {
          // The session is gone: end quietly; `close` tells the writer, an error event would crash it.
          if (!sent) this.destroy();
          cb();
        },
        (err: Error) => cb(err),
      );
    };
    if (this.replied) send();
    else this.replyWaiters.push(send);
  }

  override _final(cb: (err?: Error | null) => void): void {
    const fin = (): void => {
      if (!this.localClosed && !this.wasReset) {
        this.localClosed = true;
        this.owner.sendFin(this);
        if (this.remoteClosed) this.owner.forget(this);
      }
      cb();
    };
    if (this.replied) fin();
    else this.replyWaiters.push(fin);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.wasReset && !(this.localClosed && this.remoteClosed)) {
      this.wasReset = true;
      this.owner.sendReset(this, 5 /* CANCEL */);
    }
    this.owner.forget(this);
    for (const w of this.drainWaiters.splice(0)) w();
    for (const w of this.replyWaiters.splice(0)) w();
    cb(err);
  }
}
