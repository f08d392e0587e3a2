/**
 * The Huffman code of HPACK (RFC 7541 §5.2, Appendix B): enough to read a Huffman-coded header
 * string and, for tests and symmetry, to write one.
 *
 * Appendix B's code is canonical: within each length, codes rise with the symbol's value, and
 * each length starts at (last code of the previous length + 1) shifted left. So the table is
 * kept as the 257 code lengths the RFC lists (symbols 0–255 and EOS = 256), and the codes are
 * derived from them; a test checks the derived codes against values the RFC prints.
 */

/** Bit lengths of the codes for symbols 0..256 (256 = EOS), from RFC 7541 Appendix B. */
const CODE_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0-15
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 16-31
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, // ' ' .. '/'
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, // '0' .. '?'
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, // '@' .. 'O'
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, // 'P' .. '_'
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, // '`' .. 'o'
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, // 'p' .. 127
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128-143
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144-159
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160-175
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176-191
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192-207
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208-223
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224-239
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240-255
  30, // EOS
];

const EOS = 256;
const MAX_LENGTH = 30;

/** Canonical-code decoding tables: per length, its first code, how many, and where its symbols start. */
interface CanonicalCode {
  /** codes[s] for each symbol, as an integer of lengths[s] bits. */
  codes: Uint32Array;
  firstCode: Uint32Array;
  count: Uint16Array;
  firstIndex: Uint16Array;
  /** Symbols ordered by (length, value). */
  ordered: Uint16Array;
}

function buildCanonicalCode(lengths: readonly number[]): CanonicalCode {
  const count = new Uint16Array(MAX_LENGTH + 1);
  for (const len of lengths) count[len]!++;
  const firstCode = new Uint32Array(MAX_LENGTH + 1);
  const firstIndex = new Uint16Array(MAX_LENGTH + 1);
  let code = 0;
  let index = 0;
  for (let len = 1; len <= MAX_LENGTH; len++) {
    firstCode[len] = code;
    firstIndex[len] = index;
    code = (code + count[len]!) * 2;
    index += count[len]!;
  }
  const ordered = new Uint16Array(lengths.length);
  const next = firstIndex.slice();
  const codes = new Uint32Array(lengths.length);
  for (let len = 1; len <= MAX_LENGTH; len++) {
    for (let symbol = 0; symbol < lengths.length; symbol++) {
      if (lengths[symbol] !== len) continue;
      const slot = next[len]!++;
      ordered[slot] = symbol;
      codes[symbol] = firstCode[len]! + (slot - firstIndex[len]!);
    }
  }
  return { codes, firstCode, count, firstIndex, ordered };
}

const CODE = buildCanonicalCode(CODE_LENGTHS);

/** The code of one symbol (0..255, or 256 for EOS) and its length in bits. */
export function huffmanCode(symbol: number): { code: number; bits: number } {
  const bits = CODE_LENGTHS[symbol];
  if (bits === undefined) throw new RangeError(`no Huffman code for symbol ${symbol}`);
  return { code: CODE.codes[symbol]!, bits };
}

/** Why a Huffman string is not valid HPACK (RFC 7541 §5.2): the peer's compression error. */
export class HuffmanDecodeError extends Error {}

/**
 * Decodes a Huffman-coded HPACK string. Rejects what §5.2 makes a decoding error: padding
 * longer than 7 bits, padding that is not the most significant bits of EOS (all ones), and
 * an EOS symbol inside the string.
 */
export function huffmanDecode(input: Uint8Array): Buffer {
  const out: number[] = [];
  let code = 0; // bits of the symbol being read
  let len = 0;
  for (const byte of input) {
    for (let bit = 7; bit >= 0; bit--) {
      code = (code << 1) | ((byte >> bit) & 1);
      len++;
      const offset = code - CODE.firstCode[len]!;
      if (offset >= 0 && offset < CODE.count[len]!) {
        const symbol = CODE.ordered[CODE.firstIndex[len]! + offset]!;
        if (symbol === EOS) throw new HuffmanDecodeError("EOS symbol inside a Huffman-coded string");
        out.push(symbol);
        code = 0;
        len = 0;
      } else if (len >= MAX_LENGTH) {
        throw new HuffmanDecodeError("invalid Huffman code");
      }
    }
  }
  if (len > 7) throw new HuffmanDecodeError("Huffman padding longer than 7 bits");
  if (code !== (1 << len) - 1) throw new HuffmanDecodeError("Huffman padding is not the prefix of EOS");
  return Buffer.from(out);
}

/** The length of `input` once Huffman-coded, in bytes. */
export function huffmanEncodedLength(input: Uint8Array): number {
  let bits = 0;
  for (const byte of input) bits += CODE_LENGTHS[byte]!;
  return Math.ceil(bits / 8);
}

/** Huffman-codes `input`, padded with the most significant bits of EOS. */
export function huffmanEncode(input: Uint8Array): Buffer {
  const out = Buffer.alloc(huffmanEncodedLength(input));
  let acc = 0; // pending bits, fewer than 8 after each flush
  let pending = 0;
  let at = 0;
  for (const byte of input) {
    const bits = CODE_LENGTHS[byte]!;
    const code = CODE.codes[byte]!;
    // Feed at most 8 bits at a time so `acc` never exceeds 15 bits.
    for (let shift = bits - 8; shift > -8; shift -= 8) {
      const take = Math.min(8, shift + 8);
      const chunk = shift >= 0 ? (code >>> shift) & 0xff : code & ((1 << take) - 1);
      acc = (acc << take) | chunk;
      pending += take;
      while (pending >= 8) {
        pending -= 8;
        out[at++] = (acc >> pending) & 0xff;
      }
      acc &= (1 << pending) - 1;
    }
  }
  if (pending > 0) out[at++] = ((acc << (8 - pending)) | ((1 << (8 - pending)) - 1)) & 0xff;
  return out;
}
