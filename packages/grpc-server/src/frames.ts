/**
 * HTTP/2 framing (RFC 9113 §4, §6): the frame header, the frame types and flags a gRPC server
 * meets, and encoders for the frames it sends. Nothing here keeps state.
 */

/** RFC 9113 §3.4: the 24 octets every client connection starts with. */
export const CLIENT_MAGIC = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export const FRAME_HEADER_LENGTH = 9;

/** SETTINGS_MAX_FRAME_SIZE's initial value; this server never asks for larger frames. */
export const DEFAULT_MAX_FRAME_SIZE = 16_384;

/** The flow-control window every stream and the connection start with (RFC 9113 §6.9.2). */
export const DEFAULT_WINDOW_SIZE = 65_535;

/** Windows and increments are 31-bit (RFC 9113 §6.9.1). */
export const MAX_WINDOW_SIZE = 2 ** 31 - 1;

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

export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/** RFC 9113 §7. */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
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
    length: (input[at]! << 16) | (input[at + 1]! << 8) | input[at + 2]!,
    type: input[at + 3]!,
    flags: input[at + 4]!,
    streamId: input.readUInt32BE(at + 5) & 0x7fffffff,
  };
}

/** Writes a frame header into `out` at `at`. */
export function writeFrameHeader(out: Buffer, at: number, length: number, type: number, flags: number, streamId: number): void {
  out[at] = length >>> 16;
  out[at + 1] = (length >>> 8) & 0xff;
  out[at + 2] = length & 0xff;
  out[at + 3] = type;
  out[at + 4] = flags;
  out.writeUInt32BE(streamId & 0x7fffffff, at + 5);
}

export function encodeFrameHeader(header: FrameHeader): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_LENGTH);
  writeFrameHeader(out, 0, header.length, header.type, header.flags, header.streamId);
  return out;
}

/** A whole frame, header and payload, in one buffer. */
export function encodeFrame(type: number, flags: number, streamId: number, payload?: Uint8Array): Buffer {
  const length = payload?.length ?? 0;
  const out = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + length);
  writeFrameHeader(out, 0, length, type, flags, streamId);
  if (payload) out.set(payload, FRAME_HEADER_LENGTH);
  return out;
}

export function settingsFrame(settings: ReadonlyArray<readonly [id: number, value: number]>): Buffer {
  const payload = Buffer.allocUnsafe(6 * settings.length);
  settings.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, 6 * i);
    payload.writeUInt32BE(value, 6 * i + 2);
  });
  return encodeFrame(FrameType.SETTINGS, 0, 0, payload);
}

export const SETTINGS_ACK = encodeFrame(FrameType.SETTINGS, Flags.ACK, 0);

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(increment, 0);
  return encodeFrame(FrameType.WINDOW_UPDATE, 0, streamId, payload);
}

export function rstStreamFrame(streamId: number, code: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(code, 0);
  return encodeFrame(FrameType.RST_STREAM, 0, streamId, payload);
}

export function goawayFrame(lastStreamId: number, code: number, debug = ""): Buffer {
  const text = Buffer.from(debug, "utf8");
  const payload = Buffer.allocUnsafe(8 + text.length);
  payload.writeUInt32BE(lastStreamId, 0);
  payload.writeUInt32BE(code, 4);
  text.copy(payload, 8);
  return encodeFrame(FrameType.GOAWAY, 0, 0, payload);
}

/**
 * A header block as one HEADERS frame and as many CONTINUATION frames as `maxFrameSize` needs,
 * in one buffer.
 */
export function headerFrames(streamId: number, block: Buffer, endStream: boolean, maxFrameSize: number): Buffer {
  const count = Math.max(1, Math.ceil(block.length / maxFrameSize));
  const out = Buffer.allocUnsafe(count * FRAME_HEADER_LENGTH + block.length);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const piece = block.subarray(i * maxFrameSize, (i + 1) * maxFrameSize);
    const last = i === count - 1;
    const type = i === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
    const flags = (last ? Flags.END_HEADERS : 0) | (i === 0 && endStream ? Flags.END_STREAM : 0);
    writeFrameHeader(out, at, piece.length, type, flags, streamId);
    out.set(piece, at + FRAME_HEADER_LENGTH);
    at += FRAME_HEADER_LENGTH + piece.length;
  }
  return out;
}

/** Something the peer did that breaks the connection (RFC 9113 §5.4.1): answered with GOAWAY. */
export class ConnectionError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
