// HPACK pieces of the authority rewriter against the examples of RFC 7541 itself, and the
// rewriter's framing against arbitrary chunking of the byte stream.
import { describe, expect, it } from "vitest";
import { AuthorityRewriter } from "../src/server/authority-rewriter.js";
import { HeaderTableTracker, HpackError, isValidAuthority, toValidAuthority } from "../src/server/hpack-header-block.js";
import { HuffmanDecodeError, huffmanCode, huffmanDecode, huffmanEncode } from "../src/server/hpack-huffman.js";
import { CLIENT_MAGIC, EMPTY_SETTINGS, Flags, FrameType, encodeFrameHeader } from "../src/server/http2-frames.js";
import { hpack, requestStart } from "./raw-http2.js";

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

describe("HeaderTableTracker", () => {
  it("follows the dynamic table of examples C.3 (plain) and C.4 (Huffman)", () => {
    for (const requests of [
      ["8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", "8286 84be 5808 6e6f 2d63 6163 6865", "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"],
      ["8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", "8286 84be 5886 a8eb 1064 9cbf", "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"],
    ]) {
      const table = new HeaderTableTracker();
      const seen = requests.map((r) => table.read(hex(r), true));
      // The third request refers to the authority by index 63, after two newer entries.
      expect(seen.map((s) => s.authorities.map(String))).toEqual([["www.example.com"], ["www.example.com"], ["www.example.com"]]);
      expect(seen.every((s) => s.rewritten === undefined)).toBe(true);
      expect(table.dynamicEntries).toBe(3);
    }
  });

  it("evicts as example C.5 does (table size 256)", () => {
    const table = new HeaderTableTracker();
    table.read(hex("3fe1 01"), false); // size update to 256
    const blocks = [
      "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
      "4803 3330 37c1 c0bf",
      "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
    ];
    const counts = blocks.map((b) => (table.read(hex(b), false), table.dynamicEntries));
    expect(counts).toEqual([4, 4, 3]);
  });

  it("rewrites a literal socket-path :authority as a plain literal of the same decoded length", () => {
    for (const field of [hpack.literal(1, "/run/x.sock"), hpack.literal(1, "/run/x.sock", { huffman: true }), hpack.literalName(":authority", "/run/x.sock", { huffman: true, mode: "never" })]) {
      const table = new HeaderTableTracker();
      const { authorities, rewritten } = table.read(Buffer.concat([requestStart("/p"), field]), true);
      expect(authorities.map(String)).toEqual(["/run/x.sock"]);
      const again = new HeaderTableTracker().read(rewritten!, true);
      expect(again.authorities.map(String)).toEqual(["_run_x.sock"]);
      expect(again.rewritten).toBeUndefined();
    }
  });

  it("reports broken blocks as HpackError", () => {
    for (const bad of ["be", "80", "41", "418f", "41ff", "3fe1"]) expect(() => new HeaderTableTracker().read(hex(bad), false), bad).toThrow(HpackError);
  });

  it("knows which bytes an authority may hold", () => {
    expect(isValidAuthority(Buffer.from("localhost"))).toBe(true);
    expect(isValidAuthority(Buffer.from("[::1]:8080"))).toBe(true);
    expect(isValidAuthority(Buffer.from("/run/berth/berthd.sock"))).toBe(false);
    expect(toValidAuthority(Buffer.from("/a b\u00e9", "latin1")).toString("latin1")).toBe("_a_b_");
  });
});

describe("AuthorityRewriter", () => {
  const settings = encodeFrameHeader({ length: 0, type: FrameType.SETTINGS, flags: 0, streamId: 0 });
  const ack = encodeFrameHeader({ length: 0, type: FrameType.SETTINGS, flags: Flags.ACK, streamId: 0 });
  const headers = (streamId: number, block: Buffer, flags = Flags.END_HEADERS | Flags.END_STREAM) =>
    Buffer.concat([encodeFrameHeader({ length: block.length, type: FrameType.HEADERS, flags, streamId }), block]);
  const data = (streamId: number, payload: Buffer) => Buffer.concat([encodeFrameHeader({ length: payload.length, type: FrameType.DATA, flags: Flags.END_STREAM, streamId }), payload]);

  const stream = Buffer.concat([
    CLIENT_MAGIC,
    settings,
    headers(1, Buffer.concat([requestStart("/a"), hpack.literal(1, "/x.sock", { huffman: true })]), Flags.END_HEADERS),
    data(1, Buffer.alloc(40_000, 7)),
    ack,
    ack, // a second ACK answers nghttp2's own SETTINGS and must stay
    headers(3, Buffer.concat([requestStart("/b"), hpack.indexed(62)])),
  ]);

  it("drops only the first SETTINGS ACK, rewrites header blocks and passes everything else as it came", () => {
    const out = Buffer.concat(new AuthorityRewriter().push(stream));
    const expected = Buffer.concat([
      CLIENT_MAGIC,
      settings,
      headers(1, Buffer.concat([requestStart("/a"), hpack.literal(1, "_x.sock")]), Flags.END_HEADERS),
      data(1, Buffer.alloc(40_000, 7)),
      ack,
      headers(3, Buffer.concat([requestStart("/b"), hpack.indexed(62)])),
    ]);
    expect(out.equals(expected)).toBe(true);
  });

  it("gives the same bytes however the stream is cut into chunks", () => {
    const whole = Buffer.concat(new AuthorityRewriter().push(stream));
    for (const size of [1, 2, 7, 9, 100, 4096]) {
      const rewriter = new AuthorityRewriter();
      const out: Buffer[] = [];
      for (let at = 0; at < stream.length; at += size) out.push(...rewriter.push(stream.subarray(at, at + size)));
      expect(Buffer.concat(out).equals(whole), `chunks of ${size}`).toBe(true);
      expect(rewriter.rewrites).toBe(1);
    }
  });

  it("passes a stream that is not HTTP/2 through untouched", () => {
    const junk = Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(3));
    expect(Buffer.concat(new AuthorityRewriter().push(junk)).equals(junk)).toBe(true);
  });

  it("our empty SETTINGS is a complete SETTINGS frame with no parameters", () => {
    expect(EMPTY_SETTINGS.toString("hex")).toBe("000000040000000000");
  });
});
