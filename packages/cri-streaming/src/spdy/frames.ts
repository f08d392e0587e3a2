/**
 * SPDY/3.1 frames as plain data, and their wire encoding (SPDY draft 3 §2.2, §2.6; 3.1 adds
 * session-level WINDOW_UPDATE on stream 0). Header blocks stay compressed bytes here: their
 * zlib context belongs to the session (./header-codec.ts), since it spans every frame.
 */
export const SPDY_VERSION = 3;

export const ControlType = {
  SynStream: 1,
  SynReply: 2,
  RstStream: 3,
  Settings: 4,
  Ping: 6,
  GoAway: 7,
  Headers: 8,
  WindowUpdate: 9,
} as const;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. */
export const RstStatus = {
  ProtocolError: 1,
  InvalidStream: 2,
  RefusedStream: 3,
  UnsupportedVersion: 4,
  Cancel: 5,
  InternalError: 6,
  FlowControlError: 7,
  StreamInUse: 8,
  StreamAlreadyClosed: 9,
  FrameTooLarge: 11,
} as const;

/** GOAWAY status codes. */
export const GoAwayStatus = { Ok: 0, ProtocolError: 1, InternalError: 2 } as const;

/** SETTINGS ids this implementation acts on. */
export const SettingsId = { MaxConcurrentStreams: 4, InitialWindowSize: 7 } as const;

/** Largest payload a frame's 24-bit length can carry. */
export const MAX_FRAME_PAYLOAD = 0xff_ffff;

export type SpdyFrame =
  | { type: "data"; streamId: number; flags: number; data: Buffer }
  | { type: "syn_stream"; streamId: number; associatedId: number; priority: number; flags: number; headerBlock: Buffer }
  | { type: "syn_reply"; streamId: number; flags: number; headerBlock: Buffer }
  | { type: "rst_stream"; streamId: number; status: number }
  | { type: "settings"; flags: number; entries: { flags: number; id: number; value: number }[] }
  | { type: "ping"; id: number }
  | { type: "goaway"; lastGoodStreamId: number; status: number }
  | { type: "headers"; streamId: number; flags: number; headerBlock: Buffer }
  | { type: "window_update"; streamId: number; delta: number }
  | { type: "unknown_control"; version: number; controlType: number };

/** A frame that breaks the framing rules; the session answers it with GOAWAY(PROTOCOL_ERROR). */
export class SpdyProtocolError extends Error {
  override readonly name = "SpdyProtocolError";
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD) throw new SpdyProtocolError(`control frame payload of ${payload.length} bytes is too large`);
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags & 0xff) << 24 | payload.length) >>> 0, 4);
  return Buffer.concat([head, payload]);
}

const u32 = (...values: number[]): Buffer => {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
};

/** Encodes one frame. Header blocks must already be compressed by the session's compressor. */
export function encodeFrame(frame: SpdyFrame): Buffer {
  switch (frame.type) {
    case "data": {
      if (frame.data.length > MAX_FRAME_PAYLOAD) throw new SpdyProtocolError("data frame too large");
      const head = Buffer.alloc(8);
      head.writeUInt32BE(frame.streamId & 0x7fff_ffff, 0);
      head.writeUInt32BE(((frame.flags & 0xff) << 24 | frame.data.length) >>> 0, 4);
      return Buffer.concat([head, frame.data]);
    }
    case "syn_stream": {
      const fixed = Buffer.alloc(10);
      fixed.writeUInt32BE(frame.streamId & 0x7fff_ffff, 0);
      fixed.writeUInt32BE(frame.associatedId & 0x7fff_ffff, 4);
      fixed.writeUInt8((frame.priority & 0x7) << 5, 8);
      return controlFrame(ControlType.SynStream, frame.flags, Buffer.concat([fixed, frame.headerBlock]));
    }
    case "syn_reply":
      return controlFrame(ControlType.SynReply, frame.flags, Buffer.concat([u32(frame.streamId & 0x7fff_ffff), frame.headerBlock]));
    case "headers":
      return controlFrame(ControlType.Headers, frame.flags, Buffer.concat([u32(frame.streamId & 0x7fff_ffff), frame.headerBlock]));
    case "rst_stream":
      return controlFrame(ControlType.RstStream, 0, u32(frame.streamId & 0x7fff_ffff, frame.status));
    case "settings": {
      const body = Buffer.alloc(4 + frame.entries.length * 8);
      body.writeUInt32BE(frame.entries.length, 0);
      frame.entries.forEach((e, i) => {
        body.writeUInt32BE(((e.flags & 0xff) << 24 | (e.id & 0xff_ffff)) >>> 0, 4 + i * 8);
        body.writeUInt32BE(e.value >>> 0, 8 + i * 8);
      });
      return controlFrame(ControlType.Settings, frame.flags, body);
    }
    case "ping":
      return controlFrame(ControlType.Ping, 0, u32(frame.id));
    case "goaway":
      return controlFrame(ControlType.GoAway, 0, u32(frame.lastGoodStreamId & 0x7fff_ffff, frame.status));
    case "window_update":
      return controlFrame(ControlType.WindowUpdate, 0, u32(frame.streamId & 0x7fff_ffff, frame.delta & 0x7fff_ffff));
    case "unknown_control":
      throw new SpdyProtocolError(`cannot encode unknown control frame type ${frame.controlType}`);
  }
}

function need(payload: Buffer, n: number, what: string): void {
  if (payload.length < n) throw new SpdyProtocolError(`${what} frame has ${payload.length} payload bytes, needs ${n}`);
}

function decodeControl(version: number, type: number, flags: number, p: Buffer): SpdyFrame {
  if (version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${version} (this server speaks SPDY/3.1)`);
  switch (type) {
    case ControlType.SynStream:
      need(p, 10, "SYN_STREAM");
      return {
        type: "syn_stream",
        streamId: p.readUInt32BE(0) & 0x7fff_ffff,
        associatedId: p.readUInt32BE(4) & 0x7fff_ffff,
        priority: p.readUInt8(8) >> 5,
        flags,
        headerBlock: p.subarray(10),
      };
    case ControlType.SynReply:
      need(p, 4, "SYN_REPLY");
      return { type: "syn_reply", streamId: p.readUInt32BE(0) & 0x7fff_ffff, flags, headerBlock: p.subarray(4) };
    case ControlType.Headers:
      need(p, 4, "HEADERS");
      return { type: "headers", streamId: p.readUInt32BE(0) & 0x7fff_ffff, flags, headerBlock: p.subarray(4) };
    case ControlType.RstStream:
      need(p, 8, "RST_STREAM");
      return { type: "rst_stream", streamId: p.readUInt32BE(0) & 0x7fff_ffff, status: p.readUInt32BE(4) };
    case ControlType.Settings: {
      need(p, 4, "SETTINGS");
      const count = p.readUInt32BE(0);
      need(p, 4 + count * 8, "SETTINGS");
      const entries = [];
      for (let i = 0; i < count; i++) {
        const word = p.readUInt32BE(4 + i * 8);
        entries.push({ flags: word >>> 24, id: word & 0xff_ffff, value: p.readUInt32BE(8 + i * 8) });
      }
      return { type: "settings", flags, entries };
    }
    case ControlType.Ping:
      need(p, 4, "PING");
      return { type: "ping", id: p.readUInt32BE(0) };
    case ControlType.GoAway:
      need(p, 4, "GOAWAY");
      // SPDY/3 has an 8-byte GOAWAY; SPDY/2-style 4-byte ones carry no status.
      return { type: "goaway", lastGoodStreamId: p.readUInt32BE(0) & 0x7fff_ffff, status: p.length >= 8 ? p.readUInt32BE(4) : 0 };
    case ControlType.WindowUpdate:
      need(p, 8, "WINDOW_UPDATE");
      return { type: "window_update", streamId: p.readUInt32BE(0) & 0x7fff_ffff, delta: p.readUInt32BE(4) & 0x7fff_ffff };
    default:
      // The draft says to ignore control frames of unknown type (CREDENTIAL included).
      return { type: "unknown_control", version, controlType: type };
  }
}

/**
 * Splits a byte stream into frames. Feed it chunks as they arrive; it keeps partial frames.
 * `maxPayload` bounds what a peer can make us buffer for one frame.
 */
export class FrameParser {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxPayload = MAX_FRAME_PAYLOAD) {}

  /** Appends `chunk` and returns every frame now complete, in order. */
  push(chunk: Buffer): SpdyFrame[] {
    if (chunk.length > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
    const frames: SpdyFrame[] = [];
    let buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    let offset = 0;
    while (buf.length - offset >= 8) {
      const first = buf.readUInt32BE(offset);
      const flagsAndLength = buf.readUInt32BE(offset + 4);
      const flags = flagsAndLength >>> 24;
      const length = flagsAndLength & 0xff_ffff;
      if (length > this.maxPayload) throw new SpdyProtocolError(`frame of ${length} bytes exceeds the ${this.maxPayload}-byte limit`);
      if (buf.length - offset - 8 < length) break;
      const payload = Buffer.from(buf.subarray(offset + 8, offset + 8 + length));
      if (first & 0x8000_0000) {
        frames.push(decodeControl((first >>> 16) & 0x7fff, first & 0xffff, flags, payload));
      } else {
        frames.push({ type: "data", streamId: first & 0x7fff_ffff, flags, data: payload });
      }
      offset += 8 + length;
    }
    buf = buf.subarray(offset);
    this.pending = buf.length > 0 ? [buf] : [];
    this.pendingBytes = buf.length;
    return frames;
  }

  /** Bytes received but not yet part of a complete frame. */
  get buffered(): number {
    return this.pendingBytes;
  }
}
