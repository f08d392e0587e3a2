import type { Socket } from "node:net";
import {
  CLIENT_MAGIC,
  ConnectionError,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW_SIZE,
  ErrorCode,
  FRAME_HEADER_LENGTH,
  Flags,
  FrameType,
  MAX_WINDOW_SIZE,
  SETTINGS_ACK,
  Setting,
  encodeFrame,
  goawayFrame,
  headerFrames,
  rstStreamFrame,
  settingsFrame,
  windowUpdateFrame,
  writeFrameHeader,
} from "./frames.js";
import { HpackDecoder, HpackError, encodeHeaderBlock } from "./hpack.js";
import { ServerStream, type StreamSink } from "./stream.js";

export interface ConnectionOptions {
  /** Receive window per stream, announced as SETTINGS_INITIAL_WINDOW_SIZE. */
  streamWindow: number;
  /** Receive window of the whole connection. */
  connectionWindow: number;
  maxConcurrentStreams: number;
  /** The most octets one request's header list may decode to. */
  maxHeaderListSize: number;
  /** A new request stream; set its listener before returning. */
  onStream(stream: ServerStream): void;
  /** The peer broke the protocol (the connection is closed with GOAWAY); for logs. */
  onProtocolError?(err: ConnectionError): void;
  /** A fault of ours while serving the connection (closed with GOAWAY INTERNAL_ERROR); for logs. */
  onInternalError?(err: unknown): void;
}

/** How many streams we reset while the client was still sending are remembered, to ignore what it still sends. */
const RESET_MEMORY = 1024;

/** A header block still arriving in CONTINUATION frames. */
interface PendingBlock {
  streamId: number;
  endStream: boolean;
  fragments: Buffer[];
  size: number;
}

/**
 * The server side of one HTTP/2 connection with prior knowledge (RFC 9113 §3.3): frames read
 * off the socket, streams, HPACK, and flow control in both directions. Everything it sends in
 * one turn of the event loop goes out in one write.
 */
export class Http2ServerConnection implements StreamSink {
  private input: Buffer | undefined;
  private prefaceSeen = false;
  private readonly decoder: HpackDecoder;
  private readonly streams = new Map<number, ServerStream>();
  private lastStreamId = 0;
  private pending: PendingBlock | undefined;
  private peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  private peerInitialWindow = DEFAULT_WINDOW_SIZE;
  /** What we may still send on the connection as a whole. */
  private sendWindow = DEFAULT_WINDOW_SIZE;
  /** Connection-level octets received and not yet given back. */
  private recvUnacked = 0;
  /** Streams with output that waits for the connection's window. */
  private readonly blocked = new Set<ServerStream>();
  /** Streams closed here before the client ended them (oldest first): frames still in flight on them are ignored. */
  private readonly closedEarly = new Set<number>();
  private readonly out: Buffer[] = [];
  private flushScheduled = false;
  private draining: Promise<void> | undefined;
  private goingAway = false;
  private finished = false;
  private readonly closeWaiters: Array<() => void> = [];

  constructor(
    private readonly socket: Socket,
    private readonly opts: ConnectionOptions,
  ) {
    this.decoder = new HpackDecoder(opts.maxHeaderListSize);
    if (typeof socket.setNoDelay === "function") socket.setNoDelay(true);
    this.queue(
      settingsFrame([
        [Setting.MAX_CONCURRENT_STREAMS, opts.maxConcurrentStreams],
        [Setting.INITIAL_WINDOW_SIZE, opts.streamWindow],
        [Setting.MAX_HEADER_LIST_SIZE, opts.maxHeaderListSize],
      ]),
    );
    if (opts.connectionWindow > DEFAULT_WINDOW_SIZE) this.queue(windowUpdateFrame(0, opts.connectionWindow - DEFAULT_WINDOW_SIZE));
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => socket.destroy());
    socket.on("close", () => this.onClose());
  }

  get congested(): boolean {
    return this.socket.writableNeedDrain;
  }

  drained(): Promise<void> {
    this.draining ??= new Promise<void>((resolve) => {
      const done = () => {
        this.socket.off("drain", done);
        this.socket.off("close", done);
        this.draining = undefined;
        resolve();
      };
      this.socket.on("drain", done);
      this.socket.on("close", done);
    });
    return this.draining;
  }

  /**
   * Graceful end: GOAWAY tells the client to open no new streams; the socket closes once the
   * streams in flight finish.
   */
  goAway(): void {
    if (this.goingAway || this.finished) return;
    this.goingAway = true;
    this.queue(goawayFrame(this.lastStreamId, ErrorCode.NO_ERROR));
    this.endIfIdle();
  }

  /** Closes the socket now; streams still open hear `abort("closed")`. */
  destroy(): void {
    this.socket.destroy();
  }

  /** Resolves once the socket has closed. */
  closed(): Promise<void> {
    if (this.finished) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  private onData(chunk: Buffer): void {
    if (this.finished) return;
    let buf = chunk;
    const held = this.input;
    if (held) {
      this.input = undefined;
      const need = this.prefaceSeen && held.length >= FRAME_HEADER_LENGTH ? FRAME_HEADER_LENGTH + frameLength(held, 0) - held.length : Infinity;
      if (need <= chunk.length) {
        // Only the frame begun in an earlier chunk is joined (at most a frame's size copied);
        // the rest of this chunk is read where it lies.
        this.parse(Buffer.concat([held, chunk.subarray(0, need)]));
        if (this.finished) return;
        buf = chunk.subarray(need);
      } else {
        buf = Buffer.concat([held, chunk]);
      }
    }
    this.parse(buf);
    // Connection window back in large steps, as the data arrives (streams give theirs back as read).
    if (!this.finished && this.recvUnacked >= this.opts.connectionWindow / 4) {
      this.queue(windowUpdateFrame(0, this.recvUnacked));
      this.recvUnacked = 0;
    }
  }

  /** Reads the preface and every whole frame in `buf`; what is left waits in `input` for more. */
  private parse(buf: Buffer): void {
    let at = 0;
    try {
      if (!this.prefaceSeen) {
        const have = Math.min(buf.length, CLIENT_MAGIC.length);
        if (buf.compare(CLIENT_MAGIC, 0, have, 0, have) !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "not an HTTP/2 client connection preface");
        if (buf.length < CLIENT_MAGIC.length) {
          this.input = buf;
          return;
        }
        this.prefaceSeen = true;
        at = CLIENT_MAGIC.length;
      }
      while (buf.length - at >= FRAME_HEADER_LENGTH) {
        const length = frameLength(buf, at);
        if (length > DEFAULT_MAX_FRAME_SIZE) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `frame of ${length} octets exceeds SETTINGS_MAX_FRAME_SIZE`);
        if (buf.length - at - FRAME_HEADER_LENGTH < length) break;
        const type = buf[at + 3]!;
        const flags = buf[at + 4]!;
        const streamId = buf.readUInt32BE(at + 5) & 0x7fffffff;
        const payload = buf.subarray(at + FRAME_HEADER_LENGTH, at + FRAME_HEADER_LENGTH + length);
        at += FRAME_HEADER_LENGTH + length;
        this.onFrame(type, flags, streamId, payload);
        if (this.finished) return;
      }
    } catch (err) {
      if (err instanceof HpackError) return this.fail(new ConnectionError(ErrorCode.COMPRESSION_ERROR, err.message));
      if (err instanceof ConnectionError) return this.fail(err);
      // A bug of ours must cost this connection, not the process.
      this.opts.onInternalError?.(err);
      return this.fail(new ConnectionError(ErrorCode.INTERNAL_ERROR, "internal error"));
    }
    this.input = at < buf.length ? buf.subarray(at) : undefined;
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.pending && type !== FrameType.CONTINUATION) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "a header block was interrupted before its END_HEADERS");
    switch (type) {
      case FrameType.DATA:
        return this.onDataFrame(flags, streamId, payload);
      case FrameType.HEADERS:
        return this.onHeadersFrame(flags, streamId, payload);
      case FrameType.CONTINUATION: {
        const pending = this.pending;
        if (!pending || pending.streamId !== streamId) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "CONTINUATION without a header block in progress");
        pending.fragments.push(payload);
        pending.size += payload.length;
        this.checkBlockSize(pending.size);
        if (flags & Flags.END_HEADERS) {
          this.pending = undefined;
          this.onHeaderBlock(streamId, pending.endStream, Buffer.concat(pending.fragments));
        }
        return;
      }
      case FrameType.PRIORITY:
        if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "PRIORITY on stream 0");
        return;
      case FrameType.RST_STREAM: {
        if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "RST_STREAM on stream 0");
        if (payload.length !== 4) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "RST_STREAM payload is not 4 octets");
        const stream = this.streams.get(streamId);
        if (stream) {
          this.closeStream(stream);
          stream.listener?.abort("reset", payload.readUInt32BE(0));
        } else if (streamId > this.lastStreamId) {
          throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "RST_STREAM on an idle stream");
        }
        return;
      }
      case FrameType.SETTINGS:
        return this.onSettings(flags, streamId, payload);
      case FrameType.PUSH_PROMISE:
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "a client sent PUSH_PROMISE");
      case FrameType.PING:
        if (streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "PING on a stream");
        if (payload.length !== 8) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "PING payload is not 8 octets");
        if (!(flags & Flags.ACK)) this.queue(encodeFrame(FrameType.PING, Flags.ACK, 0, payload));
        return;
      case FrameType.GOAWAY:
        // The client opens no more streams; those in flight finish and it closes the socket.
        return;
      case FrameType.WINDOW_UPDATE:
        return this.onWindowUpdate(streamId, payload);
      default:
        // Unknown frame types are ignored (RFC 9113 §4.1).
        return;
    }
  }

  private onDataFrame(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "DATA on stream 0");
    let data = payload;
    if (flags & Flags.PADDED) {
      const pad = payload[0];
      if (pad === undefined || pad >= payload.length) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "DATA padding longer than the frame");
      data = payload.subarray(1, payload.length - pad);
    }
    this.recvUnacked += payload.length;
    const stream = this.streams.get(streamId);
    if (!stream) {
      if (streamId > this.lastStreamId) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "DATA on an idle stream");
      if (flags & Flags.END_STREAM) this.closedEarly.delete(streamId);
      return; // a stream already closed here: counted for the connection, dropped
    }
    if (stream.remoteEnded) return this.resetStream(stream, ErrorCode.STREAM_CLOSED, true);
    stream.recvWindow -= payload.length;
    if (stream.recvWindow < 0) return this.resetStream(stream, ErrorCode.FLOW_CONTROL_ERROR, true);
    if (payload.length > data.length) this.release(stream, payload.length - data.length);
    if (data.length > 0) stream.listener?.data(data);
    if (flags & Flags.END_STREAM) this.remoteEnd(stream);
  }

  private onHeadersFrame(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "HEADERS on stream 0");
    let start = 0;
    let end = payload.length;
    if (flags & Flags.PADDED) {
      if (payload.length < 1) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "PADDED HEADERS without a pad length");
      end -= payload[0]!;
      start = 1;
    }
    if (flags & Flags.PRIORITY) start += 5;
    if (end < start) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "HEADERS padding or priority longer than the frame");
    const fragment = payload.subarray(start, end);
    const endStream = (flags & Flags.END_STREAM) !== 0;
    if (flags & Flags.END_HEADERS) return this.onHeaderBlock(streamId, endStream, fragment);
    this.pending = { streamId, endStream, fragments: [fragment], size: fragment.length };
    this.checkBlockSize(fragment.length);
  }

  private checkBlockSize(size: number): void {
    // Encoded blocks are rarely larger than what they decode to; twice the list limit bounds the memory held.
    if (size > 2 * this.opts.maxHeaderListSize) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "header block too large");
  }

  private onHeaderBlock(streamId: number, endStream: boolean, block: Buffer): void {
    // Every block is decoded, whatever becomes of its stream: it may change the dynamic table.
    const fields = this.decoder.decode(block);
    const existing = this.streams.get(streamId);
    if (existing) {
      // Trailers from the client: they must end the stream; gRPC gives them no meaning.
      if (!endStream) return this.resetStream(existing, ErrorCode.PROTOCOL_ERROR, true);
      return this.remoteEnd(existing);
    }
    // Trailers of a stream answered and reset while the client was still sending (RFC 9113 §5.1: ignored).
    if (this.closedEarly.has(streamId)) {
      if (endStream) this.closedEarly.delete(streamId);
      return;
    }
    if (streamId % 2 === 0 || streamId <= this.lastStreamId) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `HEADERS opening stream ${streamId} after ${this.lastStreamId}`);
    }
    this.lastStreamId = streamId;
    if (this.goingAway || this.streams.size >= this.opts.maxConcurrentStreams) {
      this.queue(rstStreamFrame(streamId, ErrorCode.REFUSED_STREAM));
      return;
    }
    const stream = new ServerStream(streamId, fields, this, this.opts.streamWindow, this.peerInitialWindow);
    // Known before the stream's user sees it, so an answer given at once closes the stream
    // without telling the client to stop sending.
    stream.remoteEnded = endStream;
    this.streams.set(streamId, stream);
    this.opts.onStream(stream);
    if (endStream) this.remoteEnd(stream);
  }

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "SETTINGS on a stream");
    if (flags & Flags.ACK) {
      if (payload.length !== 0) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS ACK with a payload");
      return;
    }
    if (payload.length % 6 !== 0) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS payload is not a multiple of 6 octets");
    for (let at = 0; at < payload.length; at += 6) {
      const id = payload.readUInt16BE(at);
      const value = payload.readUInt32BE(at + 2);
      if (id === Setting.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW_SIZE) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1");
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const stream of this.streams.values()) stream.sendWindow += delta;
      } else if (id === Setting.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME_SIZE || value > 0xffffff) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "SETTINGS_MAX_FRAME_SIZE out of range");
        this.peerMaxFrameSize = value;
      } else if (id === Setting.ENABLE_PUSH && value > 1) {
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "SETTINGS_ENABLE_PUSH is neither 0 nor 1");
      }
      // HEADER_TABLE_SIZE needs nothing: our encoder never indexes. The rest are advisory.
    }
    this.queue(SETTINGS_ACK);
    for (const stream of this.streams.values()) this.pump(stream);
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "WINDOW_UPDATE payload is not 4 octets");
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (streamId === 0) {
      if (increment === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE of 0 on the connection");
      this.sendWindow += increment;
      if (this.sendWindow > MAX_WINDOW_SIZE) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "connection window above 2^31-1");
      const waiting = [...this.blocked];
      this.blocked.clear();
      for (const stream of waiting) this.pump(stream);
      return;
    }
    const stream = this.streams.get(streamId);
    if (!stream) return; // closed here already, or never opened: nothing to send on it
    if (increment === 0) return this.resetStream(stream, ErrorCode.PROTOCOL_ERROR, true);
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW_SIZE) return this.resetStream(stream, ErrorCode.FLOW_CONTROL_ERROR, true);
    this.pump(stream);
  }

  private remoteEnd(stream: ServerStream): void {
    stream.remoteEnded = true;
    stream.listener?.end();
    if (!stream.closed && stream.localEnded && stream.outgoing.length === 0) this.closeStream(stream);
  }

  // --- StreamSink -------------------------------------------------------------------------

  pump(stream: ServerStream): void {
    if (stream.closed) return;
    const outgoing = stream.outgoing;
    while (outgoing.length > 0) {
      const item = outgoing[0]!;
      if (item.kind === "headers") {
        this.queue(headerFrames(stream.id, encodeHeaderBlock(item.fields), item.endStream, this.peerMaxFrameSize));
        outgoing.shift();
        continue;
      }
      const remaining = item.bytes.length - stream.sentOfFirst;
      const n = Math.min(remaining, stream.sendWindow, this.sendWindow, this.peerMaxFrameSize);
      if (n <= 0) {
        if (this.sendWindow <= 0) this.blocked.add(stream);
        break;
      }
      const header = Buffer.allocUnsafe(FRAME_HEADER_LENGTH);
      writeFrameHeader(header, 0, n, FrameType.DATA, 0, stream.id);
      this.queue(header);
      this.queue(item.bytes.subarray(stream.sentOfFirst, stream.sentOfFirst + n));
      stream.sendWindow -= n;
      this.sendWindow -= n;
      stream.queuedBytes -= n;
      stream.sentOfFirst += n;
      if (stream.sentOfFirst === item.bytes.length) {
        outgoing.shift();
        stream.sentOfFirst = 0;
      }
    }
    stream.notifyRoom();
    if (stream.localEnded && outgoing.length === 0) {
      // The response is complete; a client still sending is told to stop (RFC 9113 §8.1).
      if (!stream.remoteEnded) this.queue(rstStreamFrame(stream.id, ErrorCode.NO_ERROR));
      this.closeStream(stream);
    }
  }

  release(stream: ServerStream, bytes: number): void {
    // Window goes back in steps of a quarter, so frames stay few and a reader that keeps up
    // never stalls the peer.
    stream.unreleased += bytes;
    if (stream.unreleased >= this.opts.streamWindow / 4) {
      this.queue(windowUpdateFrame(stream.id, stream.unreleased));
      stream.recvWindow += stream.unreleased;
      stream.unreleased = 0;
    }
  }

  reset(stream: ServerStream, code: number): void {
    this.resetStream(stream, code, false);
  }

  // ----------------------------------------------------------------------------------------

  private resetStream(stream: ServerStream, code: number, notify: boolean): void {
    if (stream.closed) return;
    this.queue(rstStreamFrame(stream.id, code));
    this.closeStream(stream);
    if (notify) stream.listener?.abort("reset", code);
  }

  private closeStream(stream: ServerStream): void {
    if (stream.closed) return;
    if (!stream.remoteEnded) {
      this.closedEarly.add(stream.id);
      if (this.closedEarly.size > RESET_MEMORY) this.closedEarly.delete(this.closedEarly.values().next().value!);
    }
    stream.closed = true;
    this.streams.delete(stream.id);
    this.blocked.delete(stream);
    stream.queuedBytes = 0;
    stream.outgoing.length = 0;
    stream.notifyRoom();
    this.endIfIdle();
  }

  private endIfIdle(): void {
    if (this.goingAway && this.streams.size === 0 && !this.finished) {
      this.flush();
      this.socket.end();
    }
  }

  private fail(err: ConnectionError): void {
    this.opts.onProtocolError?.(err);
    this.queue(goawayFrame(this.lastStreamId, err.code, err.message));
    this.flush();
    this.finish();
    this.socket.end();
    // A peer that never reads must not keep the socket open.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private queue(frame: Buffer): void {
    this.out.push(frame);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.out.length === 0 || this.socket.destroyed || !this.socket.writable) {
      this.out.length = 0;
      return;
    }
    if (this.out.length === 1) {
      this.socket.write(this.out[0]!);
    } else {
      this.socket.cork();
      for (const frame of this.out) this.socket.write(frame);
      this.socket.uncork();
    }
    this.out.length = 0;
  }

  private onClose(): void {
    this.finish();
    for (const wake of this.closeWaiters.splice(0)) wake();
  }

  /** No more frames are read; every open stream hears it is gone. */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.pending = undefined;
    for (const stream of [...this.streams.values()]) {
      this.closeStream(stream);
      stream.listener?.abort("closed", ErrorCode.CANCEL);
    }
  }
}

/** The payload length in the frame header at `at`. */
function frameLength(buf: Buffer, at: number): number {
  return (buf[at]! << 16) | (buf[at + 1]! << 8) | buf[at + 2]!;
}
