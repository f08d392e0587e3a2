/**
 * RFC 6455 framing, server side: client frames must be masked (§5.1), ours never are. The
 * parser enforces the rules a server must: reserved bits unset (no extensions are negotiated),
 * known opcodes, control frames short and unfragmented, and a size limit.
 */
export const Opcode = { Continuation: 0x0, Text: 0x1, Binary: 0x2, Close: 0x8, Ping: 0x9, Pong: 0xa } as const;

export interface WsFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** A frame that breaks RFC 6455; `closeCode` is what the close frame should carry. */
export class WebSocketProtocolError extends Error {
  override readonly name = "WebSocketProtocolError";
  constructor(message: string, readonly closeCode = 1002) {
    super(message);
  }
}

/** Encodes one unmasked (server-to-client) frame. */
export function encodeWsFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const first = (fin ? 0x80 : 0) | (opcode & 0x0f);
  let head: Buffer;
  if (payload.length < 126) {
    head = Buffer.from([first, payload.length]);
  } else if (payload.length <= 0xffff) {
    head = Buffer.alloc(4);
    head[0] = first;
    head[1] = 126;
    head.writeUInt16BE(payload.length, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = first;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  return Buffer.concat([head, payload]);
}

/** Encodes a masked (client-to-server) frame; for tests and clients. */
export function encodeMaskedWsFrame(opcode: number, payload: Buffer, mask: Buffer, fin = true): Buffer {
  const plain = encodeWsFrame(opcode, payload, fin);
  const headLen = plain.length - payload.length;
  const out = Buffer.alloc(plain.length + 4);
  plain.copy(out, 0, 0, headLen);
  out[1] = out[1]! | 0x80;
  mask.copy(out, headLen, 0, 4);
  for (let i = 0; i < payload.length; i++) out[headLen + 4 + i] = payload[i]! ^ mask[i % 4]!;
  return out;
}

const KNOWN_OPCODES = new Set<number>(Object.values(Opcode));

/** Splits client bytes into unmasked frames; keeps partial frames between pushes. */
export class WsFrameParser {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly maxPayload: number, private readonly requireMask = true) {}

  push(chunk: Buffer): WsFrame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: WsFrame[] = [];
    for (;;) {
      const frame = this.next();
      if (!frame) break;
      frames.push(frame);
    }
    return frames;
  }

  private next(): WsFrame | undefined {
    const b = this.buf;
    if (b.length < 2) return undefined;
    const fin = (b[0]! & 0x80) !== 0;
    if (b[0]! & 0x70) throw new WebSocketProtocolError("reserved bits set without a negotiated extension");
    const opcode = b[0]! & 0x0f;
    if (!KNOWN_OPCODES.has(opcode)) throw new WebSocketProtocolError(`unknown opcode ${opcode}`);
    const masked = (b[1]! & 0x80) !== 0;
    if (this.requireMask && !masked) throw new WebSocketProtocolError("client frame is not masked");
    let len = b[1]! & 0x7f;
    let off = 2;
    if (len === 126) {
      if (b.length < 4) return undefined;
      len = b.readUInt16BE(2);
      off = 4;
    } else if (len === 127) {
      if (b.length < 10) return undefined;
      const big = b.readBigUInt64BE(2);
      if (big > BigInt(this.maxPayload)) throw new WebSocketProtocolError(`frame of ${big} bytes exceeds the limit`, 1009);
      len = Number(big);
      off = 10;
    }
    if (opcode >= 0x8 && (len > 125 || !fin)) throw new WebSocketProtocolError("control frame is fragmented or longer than 125 bytes");
    if (len > this.maxPayload) throw new WebSocketProtocolError(`frame of ${len} bytes exceeds the limit`, 1009);
    const maskLen = masked ? 4 : 0;
    if (b.length < off + maskLen + len) return undefined;
    const payload = Buffer.from(b.subarray(off + maskLen, off + maskLen + len));
    if (masked) {
      const mask = b.subarray(off, off + 4);
      for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ mask[i % 4]!;
    }
    this.buf = b.subarray(off + maskLen + len);
    return { fin, opcode, payload };
  }
}
