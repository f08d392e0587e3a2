import { HuffmanDecodeError, huffmanDecode } from "./hpack-huffman.js";

/**
 * Just enough of an HPACK decoder (RFC 7541) to find the `:authority` in a request's header
 * block and rewrite it in place, while keeping the same dynamic table as the real decoder on
 * the other side of the connection (nghttp2), so later blocks are read as it reads them.
 */

/** Names of the static table (RFC 7541 Appendix A), index 1..61; values are never needed here. */
const STATIC_NAMES: readonly string[] = [
  "", // index 0 is not an entry
  ":authority", ":method", ":method", ":path", ":path", ":scheme", ":scheme", ":status", ":status", ":status",
  ":status", ":status", ":status", ":status", "accept-charset", "accept-encoding", "accept-language",
  "accept-ranges", "accept", "access-control-allow-origin", "age", "allow", "authorization", "cache-control",
  "content-disposition", "content-encoding", "content-language", "content-length", "content-location",
  "content-range", "content-type", "cookie", "date", "etag", "expect", "expires", "from", "host", "if-match",
  "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified", "link", "location",
  "max-forwards", "proxy-authenticate", "proxy-authorization", "range", "referer", "refresh", "retry-after",
  "server", "set-cookie", "strict-transport-security", "transfer-encoding", "user-agent", "vary", "via",
  "www-authenticate",
];
const STATIC_COUNT = STATIC_NAMES.length - 1;
const AUTHORITY = ":authority";

/** RFC 7541 §4.1: an entry costs its name and value lengths plus 32. */
const ENTRY_OVERHEAD = 32;
/** SETTINGS_HEADER_TABLE_SIZE's initial value (RFC 9113 §6.5.2); only size updates change the encoder's. */
export const DEFAULT_TABLE_SIZE = 4096;

/** The peer's header block is not valid HPACK: the real decoder will say so; we stop reading. */
export class HpackError extends Error {}

interface Entry {
  name: string;
  value: Buffer;
}

/**
 * Bytes allowed in an `:authority` (RFC 3986 §3.2: unreserved, pct-encoded, sub-delims, ":",
 * "@" and the brackets of an IP literal). nghttp2 resets a request whose `:authority` has any
 * other byte, '/' included (nodejs/node#32326).
 */
const AUTHORITY_BYTES = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%!$&'()*+,;=:@[]") {
  AUTHORITY_BYTES[c.charCodeAt(0)] = 1;
}

/** What replaces a byte not allowed in an authority: one byte for one, so lengths never change. */
const REPLACEMENT = "_".charCodeAt(0);

export function isValidAuthority(value: Uint8Array): boolean {
  for (const byte of value) if (!AUTHORITY_BYTES[byte]) return false;
  return true;
}

/** `value` with each byte not allowed in an authority replaced by '_': same length, always valid. */
export function toValidAuthority(value: Uint8Array): Buffer {
  const out = Buffer.from(value);
  for (let i = 0; i < out.length; i++) if (!AUTHORITY_BYTES[out[i]!]) out[i] = REPLACEMENT;
  return out;
}

/** What one header block held and, when asked to, its rewritten bytes. */
export interface HeaderBlockResult {
  /** Every `:authority` value in the block as sent (normally one). */
  authorities: Buffer[];
  /** The block with each invalid literal `:authority` made valid; undefined when nothing changed. */
  rewritten: Buffer | undefined;
}

/**
 * The decoding context of one direction of one connection: the dynamic table (names and
 * values, newest first) and its size limit. Feed it every header block of that direction in
 * order; a block that fails to decode leaves it unusable (the connection is then broken anyway).
 */
export class HeaderTableTracker {
  private entries: Entry[] = [];
  private size = 0;
  private maxSize = DEFAULT_TABLE_SIZE;

  /** Number of entries in the dynamic table now (for tests). */
  get dynamicEntries(): number {
    return this.entries.length;
  }

  /**
   * Reads one complete header block (all HEADERS/CONTINUATION fragments joined), updating the
   * table. With `rewrite`, every literal `:authority` value with a byte nghttp2 rejects is
   * replaced by `toValidAuthority(value)`, re-encoded as a plain literal: the decoded value has
   * the same length, so both dynamic tables keep the same sizes and evict the same entries, and
   * later indexed references to it agree. Indexed references need no change: what they point
   * at was already rewritten when it was added. The representation's own octets (indexing
   * mode, name) are kept, so a never-indexed field stays never-indexed (§6.2.3).
   */
  read(block: Uint8Array, rewrite: boolean): HeaderBlockResult {
    const input = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
    const authorities: Buffer[] = [];
    const pieces: Buffer[] = [];
    let copiedTo = 0; // input[copiedTo..] not yet in pieces
    let at = 0;
    while (at < input.length) {
      const first = input[at]!;
      if (first & 0x80) {
        // Indexed header field (§6.1).
        const index = readInteger(input, at, 7);
        at = index.next;
        const entry = this.lookup(index.value);
        if (entry.name === AUTHORITY) authorities.push(entry.value);
        continue;
      }
      if ((first & 0xe0) === 0x20) {
        // Dynamic table size update (§6.3).
        const size = readInteger(input, at, 5);
        at = size.next;
        this.maxSize = size.value;
        this.evictTo(this.maxSize);
        continue;
      }
      // Literal header field: with incremental indexing (01), without (0000), never indexed (0001).
      const indexing = (first & 0xc0) === 0x40;
      const nameIndex = readInteger(input, at, indexing ? 6 : 4);
      at = nameIndex.next;
      let name: string;
      if (nameIndex.value === 0) {
        const literal = readString(input, at);
        name = literal.value.toString("latin1");
        at = literal.next;
      } else {
        name = this.lookup(nameIndex.value).name;
      }
      const valueStart = at;
      const literal = readString(input, at);
      at = literal.next;
      let value = literal.value;
      if (name === AUTHORITY) {
        authorities.push(value);
        if (rewrite && !isValidAuthority(value)) {
          value = toValidAuthority(value);
          pieces.push(input.subarray(copiedTo, valueStart), encodePlainString(value));
          copiedTo = at;
        }
      }
      if (indexing) this.add({ name, value });
    }
    if (pieces.length === 0) return { authorities, rewritten: undefined };
    pieces.push(input.subarray(copiedTo));
    return { authorities, rewritten: Buffer.concat(pieces) };
  }

  private lookup(index: number): Entry {
    if (index === 0) throw new HpackError("header index 0");
    if (index <= STATIC_COUNT) return { name: STATIC_NAMES[index]!, value: Buffer.alloc(0) };
    const entry = this.entries[index - STATIC_COUNT - 1];
    if (!entry) throw new HpackError(`header index ${index} is beyond the dynamic table`);
    return entry;
  }

  /** §4.4: evict until it fits; an entry larger than the whole table empties it and is not added. */
  private add(entry: Entry): void {
    const size = Buffer.byteLength(entry.name, "latin1") + entry.value.length + ENTRY_OVERHEAD;
    this.evictTo(this.maxSize - size);
    if (size > this.maxSize) return;
    // A copy: `entry.value` may be a view of the whole block the peer sent.
    this.entries.unshift({ name: entry.name, value: Buffer.from(entry.value) });
    this.size += size;
  }

  private evictTo(limit: number): void {
    while (this.size > limit && this.entries.length > 0) {
      const old = this.entries.pop()!;
      this.size -= Buffer.byteLength(old.name, "latin1") + old.value.length + ENTRY_OVERHEAD;
    }
    if (this.entries.length === 0) this.size = 0;
  }
}

/** Integers beyond this are not sizes or indexes any real peer sends; refusing them bounds the loop. */
const MAX_INTEGER = 2 ** 31 - 1;

/** §5.1: an integer with an N-bit prefix starting in input[at]. */
export function readInteger(input: Buffer, at: number, prefixBits: number): { value: number; next: number } {
  const max = (1 << prefixBits) - 1;
  let value = input[at]! & max;
  let next = at + 1;
  if (value < max) return { value, next };
  let shift = 0;
  for (;;) {
    const byte = input[next];
    if (byte === undefined) throw new HpackError("header block ends inside an integer");
    next++;
    value += (byte & 0x7f) * 2 ** shift;
    if (value > MAX_INTEGER) throw new HpackError("integer too large");
    if ((byte & 0x80) === 0) return { value, next };
    shift += 7;
  }
}

/** §5.2: a string literal (H flag, 7-bit-prefix length, octets), Huffman-decoded when H is set. */
export function readString(input: Buffer, at: number): { value: Buffer; next: number } {
  if (at >= input.length) throw new HpackError("header block ends before a string");
  const huffman = (input[at]! & 0x80) !== 0;
  const length = readInteger(input, at, 7);
  const end = length.next + length.value;
  if (end > input.length) throw new HpackError("string runs past the header block");
  const raw = input.subarray(length.next, end);
  if (!huffman) return { value: raw, next: end };
  try {
    return { value: huffmanDecode(raw), next: end };
  } catch (err) {
    if (err instanceof HuffmanDecodeError) throw new HpackError(err.message);
    throw err;
  }
}

/** §5.1 with the bits above the prefix given in `high`. */
export function encodeInteger(value: number, prefixBits: number, high = 0): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([high | value]);
  const bytes = [high | max];
  let rest = value - max;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** A string literal without Huffman coding (H = 0). */
export function encodePlainString(value: Uint8Array): Buffer {
  return Buffer.concat([encodeInteger(value.length, 7), value]);
}
