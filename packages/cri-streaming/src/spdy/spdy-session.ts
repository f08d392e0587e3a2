import type { Duplex } from "node:stream";
import type { Logger } from "@berth/core";
import { silentLogger } from "@berth/core";
import {
  encodeFrame, FLAG_FIN, FLAG_UNIDIRECTIONAL, FrameParser, GoAwayStatus, RstStatus, SettingsId,
  SpdyProtocolError, type SpdyFrame,
} from "./frames.js";
import { decodeHeaderBlock, encodeHeaderBlock, type SpdyHeaders } from "./header-block.js";
import { HeaderCompressor, HeaderDecompressor } from "./header-codec.js";
import { SpdyStream, type StreamOwner } from "./spdy-stream.js";
import { UpgradedSocket } from "../upgraded-socket.js";

/** SPDY/3.1's initial stream and session window. */
const DEFAULT_WINDOW = 64 * 1024;
/** Largest DATA payload we send in one frame (spdystream's own writers use 32 KiB). */
const MAX_DATA_CHUNK = 32 * 1024;
/** Largest frame we accept; kubelet clients send at most 32 KiB of data per frame. */
const MAX_INBOUND_FRAME = 1024 * 1024;

export interface SpdySessionOptions {
  /**
   * Called for every stream the peer opens, before it is answered. Throw to refuse it (the
   * peer gets RST_STREAM REFUSED_STREAM); return to accept (the peer gets SYN_REPLY).
   */
  onStream(stream: SpdyStream): void;
  logger?: Logger;
  /** Close the session after this long without a frame either way; 0 = never. */
  idleTimeoutMs?: number;
}

/**
 * The server end of a SPDY/3.1 session over an upgraded socket, as kubelet clients
 * (client-go's spdystream) use it: the client opens streams, the server answers them.
 *
 * Flow control: we account for the peer's windows from the start, but only wait on them once
 * the peer shows it does flow control (sends WINDOW_UPDATE or an initial window in SETTINGS).
 * spdystream does none and never sends WINDOW_UPDATE, so waiting on its window would stall
 * every stream after 64 KiB. We do send WINDOW_UPDATE as our readers consume data (peers
 * without flow control ignore it). Inbound backpressure is TCP's: when a stream's reader falls
 * behind, the session stops reading the socket until it catches up, as spdystream does.
 */
export class SpdyServerSession implements StreamOwner {
  private readonly parser = new FrameParser(MAX_INBOUND_FRAME);
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly streams = new Map<number, SpdyStream>();
  private readonly conn: UpgradedSocket;
  private readonly log: Logger;
  private lastPeerStreamId = 0;
  private goAwaySent = false;
  private peerWentAway = false;
  private peerFlowControls = false;
  private peerInitialWindow = DEFAULT_WINDOW;
  private sessionSendWindow = DEFAULT_WINDOW;
  private windowWaiters: (() => void)[] = [];

  constructor(
    socket: Duplex,
    head: Buffer,
    private readonly opts: SpdySessionOptions,
  ) {
    this.log = opts.logger ?? silentLogger;
    const idleTimeoutMs = opts.idleTimeoutMs ?? 0;
    this.conn = new UpgradedSocket(
      socket,
      {
        onChunk: (chunk) => this.handleChunk(chunk),
        onPeerEnded: () => this.onPeerEnded(),
        isProtocolError: (err) => err instanceof SpdyProtocolError,
        onProtocolError: () => {
          this.sendGoAway(GoAwayStatus.ProtocolError);
          void this.conn.hangUp();
        },
        onIdle: () => {
          this.log.info("spdy: closing idle connection", { idleTimeoutMs });
          this.destroy();
        },
        onClosed: () => this.onSocketClosed(),
      },
      { name: "spdy", logger: this.log, idleTimeoutMs },
    );
    this.conn.start(head);
  }

  /** Resolves once the socket has closed. */
  get done(): Promise<void> {
    return this.conn.done;
  }

  /** Aborted when the connection ends, by either side or by error. */
  get signal(): AbortSignal {
    return this.conn.signal;
  }

  private get finished(): boolean {
    return this.conn.finished;
  }

  private get socket(): Duplex {
    return this.conn.socket;
  }

  /** Streams currently open. */
  get openStreams(): number {
    return this.streams.size;
  }

  /**
   * Graceful close: GOAWAY, then end the socket once everything queued is written; the peer
   * reads what is left and hangs up. Cuts the socket if the peer does not within a grace period.
   */
  async close(): Promise<void> {
    if (this.finished) return this.done;
    this.sendGoAway(GoAwayStatus.Ok);
    await this.conn.hangUp();
  }

  /** Abrupt close: every stream is abandoned and the socket destroyed. */
  destroy(): void {
    this.conn.destroy();
  }

  // ---- reading ----

  private async handleChunk(chunk: Buffer): Promise<void> {
    for (const frame of this.parser.push(chunk)) {
      if (this.finished) return;
      await this.handleFrame(frame);
    }
  }

  private async handleFrame(frame: SpdyFrame): Promise<void> {
    switch (frame.type) {
      case "syn_stream":
        return this.onSynStream(frame);
      case "data":
        return this.onData(frame.streamId, frame.flags, frame.data);
      case "rst_stream":
        this.streams.get(frame.streamId)?.abandon();
        return;
      case "settings":
        return this.onSettings(frame.entries);
      case "ping":
        // Odd ids are the client's: echo them. Even ones would answer our pings; we send none.
        if (frame.id % 2 === 1) this.write(encodeFrame(frame));
        return;
      case "goaway":
        this.peerWentAway = true;
        return;
      case "headers": {
        // Always inflate: the zlib context must see every header block, even ignored ones.
        const headers = decodeHeaderBlock(await this.decompressor.decompress(frame.headerBlock));
        const stream = this.streams.get(frame.streamId);
        stream?.emit("headers", headers);
        if (stream && frame.flags & FLAG_FIN) stream.endFromPeer();
        return;
      }
      case "syn_reply":
        await this.decompressor.decompress(frame.headerBlock);
        this.log.debug("spdy: ignoring SYN_REPLY for a stream we never opened", { streamId: frame.streamId });
        return;
      case "window_update":
        return this.onWindowUpdate(frame.streamId, frame.delta);
      case "unknown_control":
        return;
    }
  }

  private async onSynStream(frame: Extract<SpdyFrame, { type: "syn_stream" }>): Promise<void> {
    const headers = decodeHeaderBlock(await this.decompressor.decompress(frame.headerBlock));
    const id = frame.streamId;
    if (id === 0 || id % 2 === 0 || id <= this.lastPeerStreamId) {
      // Client stream ids are odd and increase; anything else is a protocol error on that id.
      this.write(encodeFrame({ type: "rst_stream", streamId: id, status: RstStatus.ProtocolError }));
      return;
    }
    this.lastPeerStreamId = id;
    if (this.goAwaySent || this.peerWentAway) {
      this.write(encodeFrame({ type: "rst_stream", streamId: id, status: RstStatus.RefusedStream }));
      return;
    }
    const stream = new SpdyStream(id, headers, this, this.peerInitialWindow, frame.priority);
    if (frame.flags & FLAG_UNIDIRECTIONAL) stream.localClosed = true;
    this.streams.set(id, stream);
    try {
      this.opts.onStream(stream);
    } catch (err) {
      this.log.info("spdy: refused stream", { streamId: id, reason: (err as Error).message });
      stream.wasReset = true;
      this.streams.delete(id);
      this.write(encodeFrame({ type: "rst_stream", streamId: id, status: RstStatus.RefusedStream }));
      stream.destroy();
      return;
    }
    this.writeHeaderFrame("syn_reply", id, new Map(), 0);
    stream.markReplied();
    if (frame.flags & FLAG_FIN) stream.endFromPeer();
  }

  private async onData(streamId: number, flags: number, data: Buffer): Promise<void> {
    const stream = this.streams.get(streamId);
    if (!stream) {
      // Late data for a stream we already closed is harmless; data for one never opened is not.
      if (streamId > this.lastPeerStreamId) {
        this.write(encodeFrame({ type: "rst_stream", streamId, status: RstStatus.InvalidStream }));
      }
      return;
    }
    if (stream.remoteClosed) {
      this.write(encodeFrame({ type: "rst_stream", streamId, status: RstStatus.StreamAlreadyClosed }));
      stream.abandon();
      return;
    }
    if (data.length > 0 && !stream.deliver(data)) await stream.readerCaughtUp();
    if (flags & FLAG_FIN) stream.endFromPeer();
  }

  private onSettings(entries: { id: number; value: number }[]): void {
    for (const e of entries) {
      if (e.id === SettingsId.InitialWindowSize) {
        const delta = e.value - this.peerInitialWindow;
        this.peerInitialWindow = e.value;
        this.peerFlowControls = true;
        for (const s of this.streams.values()) s.sendWindow += delta;
        this.wakeWindowWaiters();
      }
    }
  }

  private onWindowUpdate(streamId: number, delta: number): void {
    this.peerFlowControls = true;
    if (streamId === 0) this.sessionSendWindow += delta;
    else {
      const s = this.streams.get(streamId);
      if (s) s.sendWindow += delta;
    }
    this.wakeWindowWaiters();
  }

  private wakeWindowWaiters(): void {
    for (const w of this.windowWaiters.splice(0)) w();
  }

  private onPeerEnded(): void {
    // The peer will send nothing more: readers get EOF, and we finish writing, then close.
    for (const s of this.streams.values()) if (!s.remoteClosed) s.endFromPeer();
    this.conn.abort(new Error("client closed the connection"));
    this.socket.end();
  }

  /** The socket closed: every stream is abandoned and every waiting writer released. */
  private onSocketClosed(): void {
    for (const s of [...this.streams.values()]) s.abandon();
    this.streams.clear();
    this.decompressor.close();
    for (const w of this.windowWaiters.splice(0)) w();
  }

  // ---- writing ----

  private write(buf: Buffer): boolean {
    if (this.finished || this.socket.writableEnded || this.socket.destroyed) return true;
    return this.socket.write(buf);
  }

  private writeHeaderFrame(type: "syn_reply" | "headers", streamId: number, headers: SpdyHeaders, flags: number): void {
    const headerBlock = this.compressor.compress(encodeHeaderBlock(headers));
    this.write(encodeFrame({ type, streamId, flags, headerBlock }));
  }

  private sendGoAway(status: number): void {
    if (this.goAwaySent) return;
    this.goAwaySent = true;
    this.write(encodeFrame({ type: "goaway", lastGoodStreamId: this.lastPeerStreamId, status }));
  }

  private waitForWindow(): Promise<void> {
    return new Promise((resolve) => this.windowWaiters.push(resolve));
  }

  private alive(stream: SpdyStream): boolean {
    return !this.finished && !stream.wasReset && !stream.localClosed && !this.socket.writableEnded;
  }

  async sendData(stream: SpdyStream, data: Buffer): Promise<boolean> {
    let offset = 0;
    while (offset < data.length) {
      if (!this.alive(stream)) return false;
      let room = MAX_DATA_CHUNK;
      if (this.peerFlowControls) {
        room = Math.min(room, stream.sendWindow, this.sessionSendWindow);
        if (room <= 0) {
          await this.waitForWindow();
          continue;
        }
      }
      const slice = data.subarray(offset, offset + room);
      offset += slice.length;
      stream.sendWindow -= slice.length;
      this.sessionSendWindow -= slice.length;
      if (!this.write(encodeFrame({ type: "data", streamId: stream.id, flags: 0, data: slice }))) {
        await this.conn.waitForDrain();
      }
    }
    return this.alive(stream);
  }

  sendFin(stream: SpdyStream): void {
    this.write(encodeFrame({ type: "data", streamId: stream.id, flags: FLAG_FIN, data: Buffer.alloc(0) }));
  }

  sendReset(stream: SpdyStream, status: number): void {
    this.write(encodeFrame({ type: "rst_stream", streamId: stream.id, status }));
  }

  creditReceived(stream: SpdyStream, bytes: number): void {
    if (bytes <= 0 || this.finished) return;
    this.write(encodeFrame({ type: "window_update", streamId: stream.id, delta: bytes }));
    this.write(encodeFrame({ type: "window_update", streamId: 0, delta: bytes }));
  }

  forget(stream: SpdyStream): void {
    this.streams.delete(stream.id);
  }
}
