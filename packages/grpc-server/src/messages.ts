/**
 * gRPC's length-prefixed messages (gRPC over HTTP/2, "Length-Prefixed-Message"): a flag octet
 * (1 = compressed), a 4-octet big-endian length, then the message.
 */

export const MESSAGE_PREFIX_LENGTH = 5;

export interface RawMessage {
  compressed: boolean;
  bytes: Buffer;
}

/** A message longer than the receive limit was announced; nothing of it is buffered. */
export class MessageTooLargeError extends Error {
  constructor(
    readonly length: number,
    readonly limit: number,
  ) {
    super(`received message larger than max (${length} vs. ${limit})`);
  }
}

/**
 * Cuts DATA payloads into messages. Pieces are kept as they came and joined once per message,
 * so a message arriving in many frames is copied once, not once per frame.
 */
export class MessageReader {
  private readonly parts: Buffer[] = [];
  private have = 0;
  private flag = 0;
  /** Length of the message being read, or -1 while its prefix is still incomplete. */
  private length = -1;

  constructor(private readonly maxLength: number) {}

  /** Octets held that do not make a whole message yet. */
  get buffered(): number {
    return this.have;
  }

  push(chunk: Buffer): RawMessage[] {
    this.parts.push(chunk);
    this.have += chunk.length;
    const messages: RawMessage[] = [];
    for (;;) {
      if (this.length < 0) {
        if (this.have < MESSAGE_PREFIX_LENGTH) break;
        const prefix = this.take(MESSAGE_PREFIX_LENGTH);
        this.flag = prefix[0]!;
        this.length = prefix.readUInt32BE(1);
        if (this.length > this.maxLength) throw new MessageTooLargeError(this.length, this.maxLength);
      }
      if (this.have < this.length) break;
      messages.push({ compressed: (this.flag & 1) === 1, bytes: this.take(this.length) });
      this.length = -1;
    }
    return messages;
  }

  private take(n: number): Buffer {
    this.have -= n;
    const first = this.parts[0];
    if (n === 0) return Buffer.alloc(0);
    if (first!.length > n) {
      this.parts[0] = first!.subarray(n);
      return first!.subarray(0, n);
    }
    if (first!.length === n) {
      this.parts.shift();
      return first!;
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const part = this.parts[0]!;
      const used = Math.min(part.length, n - at);
      part.copy(out, at, 0, used);
      at += used;
      if (used === part.length) this.parts.shift();
      else this.parts[0] = part.subarray(used);
    }
    return out;
  }
}

/** Small messages are copied behind their prefix (one DATA item); large ones go as two pieces, uncopied. */
const COPY_LIMIT = 64 * 1024;

/** The DATA pieces that carry `message`, prefix included. */
export function framedMessage(message: Uint8Array): Buffer[] {
  const length = message.length;
  if (length <= COPY_LIMIT) {
    const out = Buffer.allocUnsafe(MESSAGE_PREFIX_LENGTH + length);
    out[0] = 0;
    out.writeUInt32BE(length, 1);
    out.set(message, MESSAGE_PREFIX_LENGTH);
    return [out];
  }
  const prefix = Buffer.allocUnsafe(MESSAGE_PREFIX_LENGTH);
  prefix[0] = 0;
  prefix.writeUInt32BE(length, 1);
  return [prefix, Buffer.from(message.buffer, message.byteOffset, message.byteLength)];
}
