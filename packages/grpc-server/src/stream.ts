import type { HeaderField } from "./hpack.js";

/**
 * The connection's side of a stream, which a ServerStream calls to send and to give back
 * receive window. Kept narrow so a stream never reaches into the connection's state.
 */
export interface StreamSink {
  /** Queues the stream's pending output and sends what the flow-control windows allow. */
  pump(stream: ServerStream): void;
  /** Returns `bytes` of receive window to the peer for this stream. */
  release(stream: ServerStream, bytes: number): void;
  /** Resets the stream (RST_STREAM) and forgets it. */
  reset(stream: ServerStream, code: number): void;
  /** True while the socket has more queued than it wants. */
  readonly congested: boolean;
  /** Resolves once the socket has drained. */
  drained(): Promise<void>;
}

/** An outgoing piece: DATA bytes (sent in frames as windows allow) or a header block. */
export type Outgoing = { kind: "data"; bytes: Buffer } | { kind: "headers"; fields: readonly HeaderField[]; endStream: boolean };

/** What the stream's user hears from the peer. */
export interface StreamListener {
  /** DATA payload (padding removed), in order. */
  data(bytes: Buffer): void;
  /** The peer will send nothing more (END_STREAM). */
  end(): void;
  /** The stream is gone before it finished: reset by the peer (its code), or the connection closed. */
  abort(reason: "reset" | "closed", code: number): void;
}

/**
 * One request stream of a connection, as the gRPC layer uses it: the request's header fields,
 * what the peer sends, and an ordered queue of what goes back. The connection drains the queue
 * as the peer's flow-control windows allow.
 */
export class ServerStream {
  /** Bytes the peer may still send us on this stream before we give window back. */
  recvWindow: number;
  /** Bytes read and given back but not yet announced in a WINDOW_UPDATE. */
  unreleased = 0;
  /** Bytes we may still send on this stream. */
  sendWindow: number;
  /** Output not yet framed, in order; the connection takes from the front. */
  readonly outgoing: Outgoing[] = [];
  /** Offset into outgoing[0] when it is DATA partly sent. */
  sentOfFirst = 0;
  /** Octets queued in `outgoing` and not sent yet. */
  queuedBytes = 0;
  remoteEnded = false;
  localEnded = false;
  closed = false;
  listener: StreamListener | undefined;
  private readonly roomWaiters: Array<() => void> = [];

  constructor(
    readonly id: number,
    readonly headers: readonly HeaderField[],
    private readonly sink: StreamSink,
    /** The receive window the stream started with (our SETTINGS_INITIAL_WINDOW_SIZE). */
    readonly recvWindowSize: number,
    sendWindow: number,
  ) {
    this.recvWindow = recvWindowSize;
    this.sendWindow = sendWindow;
  }

  /** The first value of header `name`, if sent. */
  header(name: string): string | undefined {
    for (const [n, v] of this.headers) if (n === name) return v;
    return undefined;
  }

  /** Queues a header block (response headers, or trailers with `endStream`). */
  sendHeaders(fields: readonly HeaderField[], endStream: boolean): void {
    if (this.localEnded || this.closed) return;
    if (endStream) this.localEnded = true;
    this.outgoing.push({ kind: "headers", fields, endStream });
    this.sink.pump(this);
  }

  /** Queues DATA; several calls before the connection flushes go out in one write. */
  sendData(bytes: Buffer): void {
    if (this.localEnded || this.closed || bytes.length === 0) return;
    this.outgoing.push({ kind: "data", bytes });
    this.queuedBytes += bytes.length;
    this.sink.pump(this);
  }

  /** Gives `bytes` of receive window back: the reader consumed them. */
  release(bytes: number): void {
    if (!this.closed && !this.remoteEnded && bytes > 0) this.sink.release(this, bytes);
  }

  /** Ends the stream abruptly with RST_STREAM `code`. */
  reset(code: number): void {
    if (!this.closed) this.sink.reset(this, code);
  }

  /**
   * True when the writer should wait (`room()`) before queueing more: the stream holds more than
   * a window's worth unsent, or the socket is congested.
   */
  get full(): boolean {
    return this.queuedBytes > STREAM_QUEUE_LIMIT || this.sink.congested;
  }

  /** Resolves when `full` may have turned false, or the stream closed. */
  async room(): Promise<void> {
    if (this.closed) return;
    if (this.queuedBytes > STREAM_QUEUE_LIMIT) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    } else if (this.sink.congested) {
      await this.sink.drained();
    }
  }

  /** Called by the connection when queued bytes went out or the stream closed. */
  notifyRoom(): void {
    if (this.queuedBytes > STREAM_QUEUE_LIMIT && !this.closed) return;
    for (const wake of this.roomWaiters.splice(0)) wake();
  }
}

/** How much unsent DATA a stream may queue before its writer waits. */
const STREAM_QUEUE_LIMIT = 1024 * 1024;
