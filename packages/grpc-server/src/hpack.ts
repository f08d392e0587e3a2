import { HuffmanDecodeError, huffmanDecode } from "./huffman.js";

/**
 * HPACK (RFC 7541): a decoder with its dynamic table for the header blocks a client sends, and
 * an encoder for the server's few response headers. The encoder never indexes (every field a
 * literal "without indexing"), so the client's decoder needs no table of ours and nothing here
 * depends on the client's SETTINGS_HEADER_TABLE_SIZE.
 */

/** A header field as it arrived: names are lower-case by HTTP/2's rule; values byte for byte (latin1). */
export type HeaderField = readonly [name: string, value: string];

/** RFC 7541 Appendix A, index 1..61. */
const STATIC_TABLE: readonly HeaderField[] = [
  ["", ""], // index 0 is not an entry
  [":authority", ""], [":method", "GET"], [":method", "POST"], [":path", "/"], [":path", "/index.html"],
  [":scheme", "http"], [":scheme", "https"], [":status", "200"], [":status", "204"], [":status", "206"],
  [":status", "304"], [":status", "400"], [":status", "404"], [":status", "500"], ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"], ["accept-language", ""], ["accept-ranges", ""], ["accept", ""],
  ["access-control-allow-origin", ""], ["age", ""], ["allow", ""], ["authorization", ""], ["cache-control", ""],
  ["content-disposition", ""], ["content-encoding", ""], ["content-language", ""], ["content-length", ""],
  ["content-location", ""], ["content-range", ""], ["content-type", ""], ["cookie", ""], ["date", ""],
  ["etag", ""], ["expect", ""], ["expires", ""], ["from", ""], ["host", ""], ["if-match", ""],
  ["if-modified-since", ""], ["if-none-match", ""], ["if-range", ""], ["if-unmodified-since", ""],
  ["last-modified", ""], ["link", ""], ["location", ""], ["max-forwards", ""], ["proxy-authenticate", ""],
  ["proxy-authorization", ""], ["range", ""], ["referer", ""], ["refresh", ""], ["retry-after", ""],
  ["server", ""], ["set-cookie", ""], ["strict-transport-security", ""], ["transfer-encoding", ""],
  ["user-agent", ""], ["vary", ""], ["via", ""], ["www-authenticate", ""],
];
const STATIC_COUNT = STATIC_TABLE.length - 1;

/** RFC 7541 §4.1: an entry costs its name and value lengths plus 32. */
const ENTRY_OVERHEAD = 32;
/** SETTINGS_HEADER_TABLE_SIZE's initial value, which this server keeps. */
export const DEFAULT_TABLE_SIZE = 4096;
/** Integers beyond this are not sizes or indexes any real peer sends; refusing them bounds the loop. */
const MAX_INTEGER = 2 ** 31 - 1;

/** The peer's header block is not valid HPACK: a connection error (COMPRESSION_ERROR). */
export class HpackError extends Error {}

/**
 * The decoding context of the client-to-server direction of one connection. Every header block
 * the connection receives must go through it in order, since each can change the table.
 */
export class HpackDecoder {
  private entries: HeaderField[] = []; // newest first
  private size = 0;
  private maxSize = DEFAULT_TABLE_SIZE;

  /** `maxListSize`: the most octets (RFC 9113 §6.5.2's measure) one block may decode to. */
  constructor(private readonly maxListSize = 1024 * 1024) {}

  /** Entries in the dynamic table now (for tests). */
  get dynamicEntries(): number {
    return this.entries.length;
  }

  decode(block: Buffer): HeaderField[] {
    const fields: HeaderField[] = [];
    let listSize = 0;
    let at = 0;
    while (at < block.length) {
      const first = block[at]!;
      let field: HeaderField;
      if (first & 0x80) {
        // Indexed header field (§6.1).
        at = readInteger(block, at, 7, scratch);
        field = this.lookup(scratch.value);
      } else if ((first & 0xe0) === 0x20) {
        // Dynamic table size update (§6.3), at most our SETTINGS_HEADER_TABLE_SIZE.
        at = readInteger(block, at, 5, scratch);
        if (scratch.value > DEFAULT_TABLE_SIZE) throw new HpackError(`table size update to ${scratch.value} exceeds ${DEFAULT_TABLE_SIZE}`);
        this.maxSize = scratch.value;
        this.evictTo(this.maxSize);
        continue;
      } else {
        // Literal: with incremental indexing (01), without (0000), never indexed (0001).
        const indexing = (first & 0xc0) === 0x40;
        at = readInteger(block, at, indexing ? 6 : 4, scratch);
        let name: string;
        if (scratch.value === 0) {
          at = readString(block, at, strScratch);
          name = strScratch.value;
        } else {
          name = this.lookup(scratch.value)[0];
        }
        at = readString(block, at, strScratch);
        field = [name, strScratch.value];
        if (indexing) this.add(field);
      }
      listSize += field[0].length + field[1].length + ENTRY_OVERHEAD;
      if (listSize > this.maxListSize) throw new HpackError(`header list larger than ${this.maxListSize} octets`);
      fields.push(field);
    }
    return fields;
  }

  private lookup(index: number): HeaderField {
    if (index === 0) throw new HpackError("header index 0");
    if (index <= STATIC_COUNT) return STATIC_TABLE[index]!;
    const entry = this.entries[index - STATIC_COUNT - 1];
    if (!entry) throw new HpackError(`header index ${index} is beyond the dynamic table`);
    return entry;
  }

  /** §4.4: evict until it fits; an entry larger than the whole table empties it and is not added. */
  private add(entry: HeaderField): void {
    const size = entry[0].length + entry[1].length + ENTRY_OVERHEAD;
    this.evictTo(this.maxSize - size);
    if (size > this.maxSize) return;
    this.entries.unshift(entry);
    this.size += size;
  }

  private evictTo(limit: number): void {
    while (this.size > limit && this.entries.length > 0) {
      const old = this.entries.pop()!;
      this.size -= old[0].length + old[1].length + ENTRY_OVERHEAD;
    }
    if (this.entries.length === 0) this.size = 0;
  }
}

// One decode runs at a time (it is synchronous), so integer and string results share these.
const scratch = { value: 0 };
const strScratch = { value: "" };

/** §5.1: an integer with an N-bit prefix starting in input[at]; the value goes to `out`, the next offset is returned. */
function readInteger(input: Buffer, at: number, prefixBits: number, out: { value: number }): number {
  const max = (1 << prefixBits) - 1;
  let value = input[at]! & max;
  let next = at + 1;
  if (value === max) {
    let shift = 0;
    for (;;) {
      const byte = input[next];
      if (byte === undefined) throw new HpackError("header block ends inside an integer");
      next++;
      value += (byte & 0x7f) * 2 ** shift;
      if (value > MAX_INTEGER) throw new HpackError("integer too large");
      if ((byte & 0x80) === 0) break;
      shift += 7;
    }
  }
  out.value = value;
  return next;
}

/** §5.2: a string literal (H flag, 7-bit-prefix length, octets), Huffman-decoded when H is set. */
function readString(input: Buffer, at: number, out: { value: string }): number {
  if (at >= input.length) throw new HpackError("header block ends before a string");
  const huffman = (input[at]! & 0x80) !== 0;
  const start = readInteger(input, at, 7, scratch);
  const end = start + scratch.value;
  if (end > input.length) throw new HpackError("string runs past the header block");
  if (!huffman) {
    out.value = input.toString("latin1", start, end);
    return end;
  }
  try {
    out.value = huffmanDecode(input.subarray(start, end)).toString("latin1");
  } catch (err) {
    if (err instanceof HuffmanDecodeError) throw new HpackError(err.message);
    throw err;
  }
  return end;
}

/** Static-table indexes of the names the encoder can refer to instead of spelling them. */
const STATIC_NAME_INDEX = new Map<string, number>();
for (let i = STATIC_COUNT; i >= 1; i--) STATIC_NAME_INDEX.set(STATIC_TABLE[i]![0], i);

/** `:status: 200` is static entry 8, one octet. */
const STATUS_200 = 0x88;

/**
 * A header block for `fields`: `:status: 200` indexed, everything else a literal without
 * indexing (§6.2.2), its name by static index where the table has it, no Huffman coding.
 * Values must be latin1 text (gRPC's are ASCII).
 */
export function encodeHeaderBlock(fields: readonly HeaderField[]): Buffer {
  let length = 0;
  for (const [name, value] of fields) length += 2 * 5 + name.length + value.length + 1;
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (const [name, value] of fields) {
    if (name === ":status" && value === "200") {
      out[at++] = STATUS_200;
      continue;
    }
    const nameIndex = STATIC_NAME_INDEX.get(name);
    if (nameIndex !== undefined) {
      at = writeInteger(out, at, nameIndex, 4, 0x00);
    } else {
      out[at++] = 0x00;
      at = writeInteger(out, at, name.length, 7, 0x00);
      at += out.write(name, at, "latin1");
    }
    at = writeInteger(out, at, value.length, 7, 0x00);
    at += out.write(value, at, "latin1");
  }
  return out.subarray(0, at);
}

/** §5.1 with the bits above the prefix given in `high`; returns the next offset. */
export function writeInteger(out: Buffer, at: number, value: number, prefixBits: number, high: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out[at++] = high | value;
    return at;
  }
  out[at++] = high | max;
  let rest = value - max;
  while (rest >= 0x80) {
    out[at++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  out[at++] = rest;
  return at;
}
