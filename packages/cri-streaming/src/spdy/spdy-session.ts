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

/** SPDY/3.1's initial stream and session window. */
const DEFAULT_WINDOW = 64 * 1024;
/** Largest DATA payload we send in one frame (spdystream's own writers use 32 KiB). */
const MAX_DATA_CHUNK = 32 * 1024;
/** Largest frame we accept; kubelet clients send at most 32 KiB of data per frame. */
const MAX_INBOUND_FRAME = 1024 * 1024;
/** How long a graceful close waits for the peer to hang up before cutting the socket. */
const CLOSE_GRACE_MS = 5_000;

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
  private readonly controller = new AbortController();
  private readonly log: Logger;
  private lastPeerStreamId = 0;
  private goAwaySent = false;
  private peerWentAway = false;
  private peerFlowControls = false;
  private peerInitialWindow = DEFAULT_WINDOW;
  private sessionSendWindow = DEFAULT_WINDOW;
  private windowWaiters: (() => void)[] = [];
  private drainWaiters: (() => void)[] = [];
  private finished = false;
  private resolveDone!: () => void;
  /** Resolves once the socket has closed. */
  readonly done: Promise<void> = new Promise((r) => (this.resolveDone = r));

  constructor(
    private readonly socket: Duplex,
    head: Buffer,
    private readonly opts: SpdySessionOptions,
  ) {
    this.log = opts.logger ?? silentLogger;
    socket.on("close", () => this.onSocketClosed());
    socket.on("error", (err) => this.log.debug("spdy: socket error", { error: err.message }));
    socket.on("drain", () => {
      for (const w of this.drainWaiters.splice(0)) w();
    });
    const timeout = opts.idleTimeoutMs ?? 0;
    if (timeout > 0 && "setTimeout" in socket && typeof socket.setTimeout === "function") {
      (socket as unknown as { setTimeout(ms: number, cb: () => void): void }).setTimeout(timeout, () => {
        this.log.info("spdy: closing idle connection", { idleTimeoutMs: timeout });
        this.destroy();
      });
    }
    void this.readLoop(head);
  }

  /** Aborted when the connection ends, by either side or by error. */
  get signal(): AbortSignal {
    return this.controller.signal;
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
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
    timer.unref();
    await this.done;
    clearTimeout(timer);
  }

  /** Abrupt close: every stream is abandoned and the socket destroyed. */
  destroy(): void {
    this.socket.destroy();
    this.onSocketClosed();
  }

  // ---- reading ----

  private async readLoop(head: Buffer): Promise<void> {
    try {
      if (head.length > 0) await this.handleChunk(head);
      // destroyOnReturn: false, so that leaving the loop on a protocol error still lets us
      // write GOAWAY / a close frame before hanging up.
      for await (const chunk of this.socket.iterator({ destroyOnReturn: false })) {
        await this.handleChunk(chunk as Buffer);
        if (this.finished) return;
      }
      this.onPeerEnded();
    } catch (err) {
      if (err instanceof SpdyProtocolError) {
        this.log.warn("spdy: protocol error; closing the connection", { error: err.message });
        this.sendGoAway(GoAwayStatus.ProtocolError);
        this.socket.end();
        const timer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
        timer.unref();
      } else if (!this.finished) {
        this.log.debug("spdy: connection read failed", { error: (err as Error).message });
        this.destroy();
      }
    }
  }

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
    this.controller.abort(new Error("client closed the connection"));
    this.socket.end();
  }

  private onSocketClosed(): void {
    if (this.finished) return;
    this.finished = true;
    for (const s of [...this.streams.values()]) s.abandon();
    this.streams.clear();
    this.decompressor.close();
    for (const w of this.windowWaiters.splice(0)) w();
    for (const w of this.drainWaiters.splice(0)) w();
    if (!this.controller.signal.aborted) this.controller.abort(new Error("connection closed"));
    this.resolveDone();
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

  private waitForDrain(): Promise<void> {
    return new Promise((resolve) => this.drainWaiters.push(resolve));
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
        await this.waitForDrain();
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
