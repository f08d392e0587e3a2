/**
 * The 512-byte ustar header: field offsets and the codecs for its numbers and strings.
 * Numbers are octal text, or base-256 (high bit of the first byte set) when too large, as
 * GNU tar and Go write them.
 */
export const BLOCK = 512;

export const F = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  chksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  uname: [265, 32],
  gname: [297, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
} as const satisfies Record<string, readonly [number, number]>;

export type Field = keyof typeof F;

export class TarFormatError extends Error {
  override readonly name: string = "TarFormatError";
}

/** A well-formed archive using a feature Berth does not apply (sparse files, unknown entry types). */
export class TarUnsupportedError extends TarFormatError {
  override readonly name: string = "TarUnsupportedError";
}

/** A NUL-terminated field as a byte string (latin1). */
export function readString(block: Uint8Array, field: Field): string {
  const [off, len] = F[field];
  let end = off;
  while (end < off + len && block[end] !== 0) end++;
  return Buffer.from(block.buffer, block.byteOffset + off, end - off).toString("latin1");
}

/** An octal or base-256 number field. */
export function readNumber(block: Uint8Array, field: Field): number {
  const [off, len] = F[field];
  const first = block[off]!;
  if (first & 0x80) return readBase256(block, off, len, field);
  let i = off;
  const end = off + len;
  while (i < end && (block[i] === 0x20 || block[i] === 0)) i++; // leading blanks
  let value = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = block[i]!;
    if (c === 0x20 || c === 0) break;
    if (c < 0x30 || c > 0x37) throw new TarFormatError(`invalid octal digit in the ${field} field`);
    value = value * 8 + (c - 0x30);
    digits++;
  }
  for (; i < end; i++) {
    const c = block[i]!;
    if (c !== 0x20 && c !== 0) throw new TarFormatError(`invalid ${field} field`);
  }
  return digits === 0 ? 0 : value;
}

function readBase256(block: Uint8Array, off: number, len: number, field: Field): number {
  const negative = (block[off]! & 0x40) !== 0;
  let value = 0;
  for (let i = 0; i < len; i++) {
    let byte = block[off + i]!;
    if (i === 0) byte &= 0x7f;
    if (negative) byte ^= 0xff;
    value = value * 256 + byte;
    if (value > Number.MAX_SAFE_INTEGER) throw new TarFormatError(`${field} field out of range`);
  }
  return negative ? -(value + 1) : value;
}

/** The header checksum: the sum of all bytes with the checksum field read as spaces. */
export function checksumOf(block: Uint8Array): { unsigned: number; signed: number } {
  let unsigned = 0;
  let signed = 0;
  const [cOff, cLen] = F.chksum;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= cOff && i < cOff + cLen ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return { unsigned, signed };
}

export function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** Writes `text` (a byte string) into a field; false if it does not fit. */
export function writeString(block: Buffer, field: Field, text: string): boolean {
  const [off, len] = F[field];
  if (text.length > len) return false;
  block.write(text, off, len, "latin1");
  return true;
}

/** Writes `value` as zero-padded octal with a NUL terminator; false if it does not fit. */
export function writeOctal(block: Buffer, field: Field, value: number): boolean {
  const [off, len] = F[field];
  if (!Number.isInteger(value) || value < 0) return false;
  const text = value.toString(8);
  if (text.length > len - 1) return false;
  block.write(text.padStart(len - 1, "0"), off, len - 1, "latin1");
  block[off + len - 1] = 0;
  return true;
}

/** Fills in the checksum of a finished header block. */
export function writeChecksum(block: Buffer): void {
  const sum = checksumOf(block).unsigned;
  const [off] = F.chksum;
  block.write(sum.toString(8).padStart(6, "0"), off, 6, "latin1");
  block[off + 6] = 0;
  block[off + 7] = 0x20;
}

/** Bytes of padding after `size` bytes of data, up to the next block boundary. */
export function paddingOf(size: number): number {
  const rest = size % BLOCK;
  return rest === 0 ? 0 : BLOCK - rest;
}
