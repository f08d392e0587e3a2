import { HeaderTableTracker, HpackError } from "./hpack-header-block.js";
import {
  CLIENT_MAGIC,
  FRAME_HEADER_LENGTH,
  FrameType,
  Flags,
  FramingError,
  headerBlockFragment,
  isSettingsAck,
  readFrameHeader,
} from "./http2-frames.js";

/** What the first bytes a client sent say about it. */
export interface ClientPreface {
  /** The 24-octet magic arrived and is right. */
  magic: boolean;
  /** Set once the first request's header block is complete: its `:authority` values. */
  firstRequest: { authorities: Buffer[] } | undefined;
  /** Where the first SETTINGS ACK lies in the bytes, once it arrived. */
  settingsAck: { start: number; end: number } | undefined;
  /** Set when the bytes are not HTTP/2 or break it before the first request; nghttp2 will say how. */
  malformed: string | undefined;
}

/**
 * Reads what a client sends on a new connection (RFC 9113 §3.4: the magic, a SETTINGS frame,
 * then any frames) up to the end of its first header block and the first SETTINGS ACK. Each
 * `read` gets everything received so far (the same bytes plus more) and continues where the
 * last one stopped, so a peer sending a byte at a time costs no more than one sending it all.
 */
export class ClientPrefaceReader {
  readonly state: ClientPreface = { magic: false, firstRequest: undefined, settingsAck: undefined, malformed: undefined };
  /** Offset of the next frame not yet read. */
  private at = CLIENT_MAGIC.length;
  private fragments: Buffer[] = [];
  /** Stream of the first header block while it waits for CONTINUATION frames. */
  private blockStream: number | undefined;

  read(raw: Buffer): ClientPreface {
    const s = this.state;
    if (s.malformed || (s.firstRequest && s.settingsAck)) return s;
    if (!s.magic) {
      const n = Math.min(raw.length, CLIENT_MAGIC.length);
      if (!raw.subarray(0, n).equals(CLIENT_MAGIC.subarray(0, n))) {
        s.malformed = "not the HTTP/2 client connection preface";
        return s;
      }
      if (n < CLIENT_MAGIC.length) return s;
      s.magic = true;
    }
    try {
      while (raw.length - this.at >= FRAME_HEADER_LENGTH && !(s.firstRequest && s.settingsAck)) {
        const header = readFrameHeader(raw, this.at);
        const end = this.at + FRAME_HEADER_LENGTH + header.length;
        if (raw.length < end) break;
        const payload = raw.subarray(this.at + FRAME_HEADER_LENGTH, end);
        this.onFrame(header, payload, this.at, end);
        if (s.malformed) return s;
        this.at = end;
      }
    } catch (err) {
      if (!(err instanceof FramingError || err instanceof HpackError)) throw err;
      s.malformed = err.message;
    }
    return s;
  }

  private onFrame(header: ReturnType<typeof readFrameHeader>, payload: Buffer, start: number, end: number): void {
    const s = this.state;
    if (start === CLIENT_MAGIC.length && (header.type !== FrameType.SETTINGS || header.flags & Flags.ACK)) {
      s.malformed = "the client preface has no SETTINGS frame";
      return;
    }
    if (isSettingsAck(header) && !s.settingsAck) s.settingsAck = { start, end };
    if (s.firstRequest) return;
    const isBlock = header.type === FrameType.HEADERS || header.type === FrameType.CONTINUATION;
    if (this.blockStream !== undefined && (header.type !== FrameType.CONTINUATION || header.streamId !== this.blockStream)) {
      s.malformed = "a frame inside the first header block";
      return;
    }
    if (!isBlock) return;
    if (header.type === FrameType.CONTINUATION && this.blockStream === undefined) {
      s.malformed = "CONTINUATION without HEADERS";
      return;
    }
    this.blockStream = header.streamId;
    this.fragments.push(headerBlockFragment(header, payload).fragment);
    if (header.flags & Flags.END_HEADERS) {
      // The first block is read against an empty dynamic table, as nghttp2 will read it.
      const { authorities } = new HeaderTableTracker().read(Buffer.concat(this.fragments), false);
      s.firstRequest = { authorities };
      this.blockStream = undefined;
      this.fragments = [];
    }
  }
}
