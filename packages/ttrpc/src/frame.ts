/**
 * ttrpc's message frame: a 10-byte header (data length u32 BE, stream id u32 BE, type u8,
 * flags u8) followed by the data. See ttrpc's PROTOCOL.md.
 */

export const HEADER_LENGTH = 10;

/** The largest data a frame may carry (4 MiB); larger frames are refused, not buffered. */
export const MAX_DATA_LENGTH = 4 << 20;

export const MessageType = {
  Request: 0x01,
  Response: 0x02,
  Data: 0x03,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Flags. Their meaning depends on the message type: RemoteOpen only on requests, NoData only on data. */
export const Flag = {
  /** The sender will send no more data on this stream. */
  RemoteClosed: 0x01,
  /** A non-unary request whose sender keeps sending data. */
  RemoteOpen: 0x02,
  /** A data frame without a message (a stream's bare close). */
  NoData: 0x04,
} as const;

export interface Frame {
  readonly streamId: number;
  readonly type: number;
  readonly flags: number;
  /** The frame's data; a view into the bytes read from the socket where possible. */
  readonly data: Uint8Array;
}

/** A frame whose length exceeds MAX_DATA_LENGTH: its data was discarded unread. */
export interface OversizedFrame {
  readonly streamId: number;
  readonly type: number;
  readonly flags: number;
  readonly length: number;
}

export function encodeHeader(streamId: number, type: MessageType, flags: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(HEADER_LENGTH);
  header.writeUInt32BE(length, 0);
  header.writeUInt32BE(streamId, 4);
  header[8] = type;
  header[9] = flags;
  return header;
}

export function hasFlag(flags: number, flag: number): boolean {
  return (flags & flag) === flag;
}
