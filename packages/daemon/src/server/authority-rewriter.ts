import { HeaderTableTracker, HpackError } from "./hpack-header-block.js";
import {
  CLIENT_MAGIC,
  FRAME_HEADER_LENGTH,
  FrameType,
  Flags,
  FramingError,
  encodeHeaderFrames,
  headerBlockFragment,
  isSettingsAck,
  readFrameHeader,
  type FrameHeader,
} from "./http2-frames.js";

/**
 * A header block is held whole before it is passed on; a peer sending more than this in one is
 * not a gRPC client (nghttp2's own limit on a header list is 64 KiB) and gets no rewriting.
 */
const MAX_HEADER_BLOCK = 256 * 1024;

interface PendingBlock {
  streamId: number;
  endStream: boolean;
  priority: Buffer | undefined;
  /** The frames as received, passed on unchanged when the block needs no rewriting. */
  frames: Buffer[];
  fragments: Buffer[];
  length: number;
}

/**
 * Rewrites the client-to-server bytes of one HTTP/2 connection so nghttp2 accepts them: every
 * literal `:authority` that holds a byte an authority may not have (grpc-go sends the socket
 * path) gets the same value with those bytes replaced (see HeaderTableTracker.read), header
 * blocks that change are re-framed, and the first SETTINGS ACK, which acknowledges the empty
 * SETTINGS the router sent before nghttp2 existed, is dropped. Everything else goes through as
 * it came, DATA payloads without being held.
 *
 * Once the peer breaks framing or HPACK, the rest of the connection goes through untouched:
 * nghttp2 sees the same error and closes the connection with the right error code.
 */
export class AuthorityRewriter {
  private pending: Buffer = Buffer.alloc(0);
  private stage: "magic" | "frames" | "passthrough" = "magic";
  private ackDropped = false;
  /** Payload octets of the current frame still to pass on as they arrive. */
  private streaming = 0;
  private block: PendingBlock | undefined;
  private readonly table = new HeaderTableTracker();
  /** Literal `:authority` values rewritten so far (for tests and logs). */
  rewrites = 0;

  /** Takes the next bytes from the client; returns what to hand to nghttp2, in order. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    const input = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let at = 0;
    for (;;) {
      if (this.stage === "passthrough") {
        if (at < input.length) out.push(input.subarray(at));
        at = input.length;
        break;
      }
      if (this.streaming > 0) {
        const n = Math.min(this.streaming, input.length - at);
        if (n === 0) break;
        out.push(input.subarray(at, at + n));
        this.streaming -= n;
        at += n;
        continue;
      }
      if (this.stage === "magic") {
        if (input.length - at < CLIENT_MAGIC.length) break;
        const magic = input.subarray(at, at + CLIENT_MAGIC.length);
        out.push(magic);
        at += CLIENT_MAGIC.length;
        this.stage = magic.equals(CLIENT_MAGIC) ? "frames" : "passthrough";
        continue;
      }
      if (input.length - at < FRAME_HEADER_LENGTH) break;
      const header = readFrameHeader(input, at);
      if (!this.holdsWholeFrame(header)) {
        if (this.block) {
          // RFC 9113 §6.10: nothing may come between a HEADERS frame and its CONTINUATIONs.
          this.giveUp(out);
          continue;
        }
        out.push(input.subarray(at, at + FRAME_HEADER_LENGTH));
        at += FRAME_HEADER_LENGTH;
        this.streaming = header.length;
        continue;
      }
      if (header.length > MAX_HEADER_BLOCK) {
        this.giveUp(out);
        continue;
      }
      const end = at + FRAME_HEADER_LENGTH + header.length;
      if (input.length < end) break;
      const frame = input.subarray(at, end);
      at = end;
      try {
        this.onWholeFrame(header, frame, out);
      } catch (err) {
        if (!(err instanceof FramingError || err instanceof HpackError)) throw err;
        this.giveUp(out, frame);
      }
    }
    // Keep a copy of the tail only: `input` may be a large chunk mostly passed on already.
    this.pending = at < input.length ? Buffer.from(input.subarray(at)) : Buffer.alloc(0);
    return out;
  }

  /** Header blocks and our SETTINGS ACK are read whole; other frames stream through. */
  private holdsWholeFrame(header: FrameHeader): boolean {
    if (header.type === FrameType.HEADERS || header.type === FrameType.CONTINUATION) return true;
    return !this.ackDropped && isSettingsAck(header);
  }

  private onWholeFrame(header: FrameHeader, frame: Buffer, out: Buffer[]): void {
    if (header.type === FrameType.SETTINGS) {
      // The first ACK answers our empty SETTINGS: nghttp2 never sent it, and treats an ACK it
      // is not waiting for as a connection error.
      this.ackDropped = true;
      return;
    }
    const payload = frame.subarray(FRAME_HEADER_LENGTH);
    if (header.type === FrameType.HEADERS) {
      if (this.block) throw new FramingError("HEADERS inside another header block");
      const { fragment, priority } = headerBlockFragment(header, payload);
      this.block = {
        streamId: header.streamId,
        endStream: (header.flags & Flags.END_STREAM) !== 0,
        priority: priority && Buffer.from(priority),
        frames: [frame],
        fragments: [fragment],
        length: fragment.length,
      };
    } else {
      const block = this.block;
      if (!block || block.streamId !== header.streamId) throw new FramingError("CONTINUATION outside its header block");
      block.frames.push(frame);
      block.fragments.push(payload);
      block.length += payload.length;
      if (block.length > MAX_HEADER_BLOCK) throw new FramingError("header block too large to rewrite");
    }
    if (header.flags & Flags.END_HEADERS) this.finishBlock(out);
  }

  private finishBlock(out: Buffer[]): void {
    const block = this.block!;
    const { rewritten } = this.table.read(Buffer.concat(block.fragments), true);
    this.block = undefined;
    if (!rewritten) {
      out.push(...block.frames);
      return;
    }
    this.rewrites++;
    out.push(...encodeHeaderFrames(block.streamId, block.endStream, block.priority, rewritten));
  }

  /** Passes on what is held (and `frame`) unchanged; from now on everything goes through. */
  private giveUp(out: Buffer[], frame?: Buffer): void {
    if (this.block) out.push(...this.block.frames.filter((f) => f !== frame));
    if (frame) out.push(frame);
    this.block = undefined;
    this.stage = "passthrough";
  }
}
