/**
 * The few pieces of HTTP/2 framing (RFC 9113 §3.4, §4.1, §6) that the connection router and the
 * authority rewriter read and write. Nothing here keeps state.
 */

/** RFC 9113 §3.4: the 24 octets every client connection starts with. */
export const CLIENT_MAGIC = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export const FRAME_HEADER_LENGTH = 9;

/**
 * Every peer must accept frames of this size (RFC 9113 §4.2: SETTINGS_MAX_FRAME_SIZE can only
 * be raised from it), so re-framed header blocks never exceed it.
 */
export const MIN_MAX_FRAME_SIZE = 16_384;

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const Flags = {
  /** SETTINGS, PING */
  ACK: 0x1,
  /** DATA, HEADERS */
  END_STREAM: 0x1,
  /** HEADERS, PUSH_PROMISE, CONTINUATION */
  END_HEADERS: 0x4,
  /** DATA, HEADERS, PUSH_PROMISE */
  PADDED: 0x8,
  /** HEADERS */
  PRIORITY: 0x20,
} as const;

export interface FrameHeader {
  /** Payload length, not counting the 9-octet header. */
  length: number;
  type: number;
  flags: number;
  streamId: number;
}

export function readFrameHeader(input: Buffer, at: number): FrameHeader {
  return {
    length: input.readUIntBE(at, 3),
    type: input[at + 3]!,
    flags: input[at + 4]!,
    streamId: input.readUInt32BE(at + 5) & 0x7fffffff,
  };
}

export function encodeFrameHeader(header: FrameHeader): Buffer {
  const out = Buffer.alloc(FRAME_HEADER_LENGTH);
  out.writeUIntBE(header.length, 0, 3);
  out[3] = header.type;
  out[4] = header.flags;
  out.writeUInt32BE(header.streamId & 0x7fffffff, 5);
  return out;
}

/** A SETTINGS frame with no parameters: a valid server connection preface (RFC 9113 §3.4). */
export const EMPTY_SETTINGS = encodeFrameHeader({ length: 0, type: FrameType.SETTINGS, flags: 0, streamId: 0 });

/** Is this the acknowledgement of a SETTINGS frame (type SETTINGS, ACK, empty, stream 0)? */
export function isSettingsAck(header: FrameHeader): boolean {
  return header.type === FrameType.SETTINGS && (header.flags & Flags.ACK) !== 0 && header.length === 0 && header.streamId === 0;
}

/** The peer broke HTTP/2 framing; whoever reads the connection natively will report it. */
export class FramingError extends Error {}

/**
 * The header block fragment of a HEADERS or CONTINUATION payload (RFC 9113 §6.2, §6.10), with
 * padding removed, and the 5 priority octets of a HEADERS frame that has the PRIORITY flag.
 */
export function headerBlockFragment(header: FrameHeader, payload: Buffer): { fragment: Buffer; priority: Buffer | undefined } {
  if (header.type === FrameType.CONTINUATION) return { fragment: payload, priority: undefined };
  let start = 0;
  let end = payload.length;
  if (header.flags & Flags.PADDED) {
    if (payload.length < 1) throw new FramingError("PADDED HEADERS frame without a pad length");
    end -= payload[0]!;
    start = 1;
  }
  let priority: Buffer | undefined;
  if (header.flags & Flags.PRIORITY) {
    priority = payload.subarray(start, start + 5);
    start += 5;
  }
  if (end < start) throw new FramingError("HEADERS padding or priority longer than the frame");
  return { fragment: payload.subarray(start, end), priority };
}

/**
 * A header block as one HEADERS frame and as many CONTINUATION frames as needed, none longer
 * than MIN_MAX_FRAME_SIZE; no padding. `endStream` and `priority` come from the HEADERS frame
 * the block arrived in.
 */
export function encodeHeaderFrames(streamId: number, endStream: boolean, priority: Buffer | undefined, block: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  const firstRoom = MIN_MAX_FRAME_SIZE - (priority?.length ?? 0);
  let at = Math.min(block.length, firstRoom);
  const last = at === block.length;
  const flags = (endStream ? Flags.END_STREAM : 0) | (priority ? Flags.PRIORITY : 0) | (last ? Flags.END_HEADERS : 0);
  const first = block.subarray(0, at);
  frames.push(encodeFrameHeader({ length: first.length + (priority?.length ?? 0), type: FrameType.HEADERS, flags, streamId }));
  if (priority) frames.push(priority);
  frames.push(first);
  while (at < block.length) {
    const piece = block.subarray(at, at + MIN_MAX_FRAME_SIZE);
    at += piece.length;
    const flags = at === block.length ? Flags.END_HEADERS : 0;
    frames.push(encodeFrameHeader({ length: piece.length, type: FrameType.CONTINUATION, flags, streamId }), piece);
  }
  return frames;
}
