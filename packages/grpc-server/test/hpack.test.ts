// HPACK against the examples of RFC 7541 itself: the Huffman code, the decoder's dynamic table,
// and the encoder read back by the decoder.
import { describe, expect, it } from "vitest";
import { HpackDecoder, HpackError, encodeHeaderBlock, type HeaderField } from "../src/hpack.js";
import { HuffmanDecodeError, huffmanCode, huffmanDecode, huffmanEncode } from "../src/huffman.js";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

describe("Huffman code (RFC 7541 Appendix B)", () => {
  it("derives the codes the appendix prints", () => {
    // (symbol, code as hex, length) rows copied from the appendix as a check of the derivation.
    const rows: [number, number, number][] = [
      [0, 0x1ff8, 13], [10, 0x3ffffffc, 30], [32, 0x14, 6], [47, 0x18, 6], [48, 0x0, 5], [58, 0x5c, 7],
      [92, 0x7fff0, 19], [97, 0x3, 5], [126, 0x1ffd, 13], [127, 0xffffffc, 28], [128, 0xfffe6, 20],
      [199, 0x1ffffec, 25], [255, 0x3ffffee, 26], [256, 0x3fffffff, 30],
    ];
    for (const [symbol, code, bits] of rows) expect(huffmanCode(symbol), `symbol ${symbol}`).toEqual({ code, bits });
  });

  it("decodes the Huffman strings of examples C.4 and C.6", () => {
    const examples: [string, string][] = [
      ["f1e3 c2e5 f23a 6ba0 ab90 f4ff", "www.example.com"],
      ["a8eb 1064 9cbf", "no-cache"],
      ["25a8 49e9 5ba9 7d7f", "custom-key"],
      ["25a8 49e9 5bb8 e8b4 bf", "custom-value"],
      ["6402", "302"],
      ["aec3 771a 4b", "private"],
      ["d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff", "Mon, 21 Oct 2013 20:13:21 GMT"],
      ["9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3", "https://www.example.com"],
      ["9bd9 ab", "gzip"],
    ];
    for (const [coded, text] of examples) {
      expect(huffmanDecode(hex(coded)).toString("latin1")).toBe(text);
      expect(huffmanEncode(Buffer.from(text, "latin1")).equals(hex(coded))).toBe(true);
    }
  });

  it("round-trips every byte value", () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(huffmanDecode(huffmanEncode(all)).equals(all)).toBe(true);
    expect(huffmanDecode(Buffer.alloc(0)).length).toBe(0);
  });

  it("rejects what §5.2 calls a decoding error", () => {
    expect(() => huffmanDecode(hex("ffffffff"))).toThrow(HuffmanDecodeError); // EOS inside the string
    expect(() => huffmanDecode(hex("1fff"))).toThrow(HuffmanDecodeError); // '0' then 11 bits of padding
    expect(() => huffmanDecode(hex("00"))).toThrow(HuffmanDecodeError); // padding of zeros
  });
});

describe("HpackDecoder", () => {
  it("decodes examples C.3 (plain) and C.4 (Huffman), following their dynamic table", () => {
    for (const requests of [
      ["8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", "8286 84be 5808 6e6f 2d63 6163 6865", "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"],
      ["8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", "8286 84be 5886 a8eb 1064 9cbf", "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"],
    ]) {
      const decoder = new HpackDecoder();
      const lists = requests.map((r) => decoder.decode(hex(r)));
      expect(lists).toEqual([
        [[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "www.example.com"]],
        [[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "www.example.com"], ["cache-control", "no-cache"]],
        [[":method", "GET"], [":scheme", "https"], [":path", "/index.html"], [":authority", "www.example.com"], ["custom-key", "custom-value"]],
      ]);
      expect(decoder.dynamicEntries).toBe(3);
    }
  });

  it("evicts as example C.5 does (table size 256)", () => {
    const decoder = new HpackDecoder();
    decoder.decode(hex("3fe1 01")); // size update to 256
    const blocks = [
      "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
      "4803 3330 37c1 c0bf",
      "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
    ];
    const decoded = blocks.map((b) => [decoder.decode(hex(b)), decoder.dynamicEntries] as const);
    expect(decoded.map(([, n]) => n)).toEqual([4, 4, 3]);
    // The second response refers to the first's entries by index (c1 c0 bf).
    expect(decoded[1]![0]).toEqual([
      [":status", "307"],
      ["cache-control", "private"],
      ["date", "Mon, 21 Oct 2013 20:13:21 GMT"],
      ["location", "https://www.example.com"],
    ]);
  });

  it("reports broken blocks as HpackError", () => {
    // Index beyond the table, index 0, a literal without its string, a string past the end, an
    // unfinished integer, a size update above SETTINGS_HEADER_TABLE_SIZE.
    for (const bad of ["be", "80", "41", "418f", "41ff", "3fe1", "3fe2 1f"]) expect(() => new HpackDecoder().decode(hex(bad)), bad).toThrow(HpackError);
  });

  it("refuses a header list larger than its limit", () => {
    const decoder = new HpackDecoder(100);
    const block = encodeHeaderBlock([["x-a", "v".repeat(40)], ["x-b", "v".repeat(40)]]);
    expect(() => decoder.decode(block)).toThrow(/header list larger than 100/);
  });
});

describe("encodeHeaderBlock", () => {
  it("writes literals without indexing that a decoder reads back, leaving its table empty", () => {
    const fields: HeaderField[] = [
      [":status", "200"],
      [":status", "415"],
      ["content-type", "application/grpc"],
      ["grpc-status", "5"],
      ["grpc-message", "x".repeat(300)],
    ];
    const decoder = new HpackDecoder();
    expect(decoder.decode(encodeHeaderBlock(fields))).toEqual(fields);
    expect(decoder.dynamicEntries).toBe(0);
    // :status 200 is the one-octet static entry 8.
    expect(encodeHeaderBlock([[":status", "200"]])).toEqual(Buffer.from([0x88]));
  });
});
