import { createHash } from "node:crypto";
import { constants, createInflate } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  decodeHeaderBlock, encodeFrame, encodeHeaderBlock, encodeWsFrame, FrameParser, SPDY3_HEADER_DICTIONARY, spdyHeaders,
  websocketAccept, WsFrameParser, encodeMaskedWsFrame, Opcode, type SpdyFrame,
} from "../src/index.js";
import { HeaderCompressor } from "../src/spdy/header-codec.js";

describe("SPDY/3 framing", () => {
  it("uses the draft's header dictionary, byte for byte (1423 bytes, known digest)", () => {
    expect(SPDY3_HEADER_DICTIONARY.length).toBe(1423);
    expect(createHash("sha256").update(SPDY3_HEADER_DICTIONARY).digest("hex")).toBe(
      "51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02",
    );
  });

  it("encodes and parses every frame type, one byte at a time", () => {
    const frames: SpdyFrame[] = [
      { type: "syn_stream", streamId: 1, associatedId: 0, priority: 3, flags: 1, headerBlock: Buffer.from("hb") },
      { type: "syn_reply", streamId: 1, flags: 0, headerBlock: Buffer.from("r") },
      { type: "rst_stream", streamId: 3, status: 5 },
      { type: "settings", flags: 0, entries: [{ flags: 0, id: 7, value: 1 << 20 }] },
      { type: "ping", id: 9 },
      { type: "goaway", lastGoodStreamId: 5, status: 0 },
      { type: "headers", streamId: 1, flags: 0, headerBlock: Buffer.from("h") },
      { type: "window_update", streamId: 0, delta: 4096 },
      { type: "data", streamId: 7, flags: 1, data: Buffer.from("payload") },
    ];
    const wire = Buffer.concat(frames.map(encodeFrame));
    const parser = new FrameParser();
    const out: SpdyFrame[] = [];
    for (const byte of wire) out.push(...parser.push(Buffer.from([byte])));
    expect(out).toEqual(frames);
    expect(parser.buffered).toBe(0);
  });

  it("round-trips header blocks with multi-valued headers, lower-casing names", () => {
    const h = spdyHeaders({ StreamType: "stdin", Multi: ["a", "b"] });
    expect(decodeHeaderBlock(encodeHeaderBlock(h))).toEqual(new Map([["streamtype", ["stdin"]], ["multi", ["a", "b"]]]));
    expect(() => decodeHeaderBlock(Buffer.from([0, 0, 0, 9, 0, 0]))).toThrow(/malformed header block/);
  });

  it("compresses header blocks so that one continuing zlib stream (as Go's reader) inflates them all", async () => {
    const c = new HeaderCompressor();
    const blocks = [spdyHeaders({ a: "1" }), spdyHeaders({ streamtype: "stdout", port: "8080" }), spdyHeaders({})].map(encodeHeaderBlock);
    const inflate = createInflate({ dictionary: SPDY3_HEADER_DICTIONARY });
    for (const block of blocks) {
      const out: Buffer[] = [];
      const onData = (d: Buffer): void => void out.push(d);
      inflate.on("data", onData);
      inflate.write(c.compress(block));
      await new Promise<void>((r) => inflate.flush(constants.Z_SYNC_FLUSH, () => r()));
      inflate.off("data", onData);
      expect(Buffer.concat(out).equals(block)).toBe(true);
    }
  });
});

describe("WebSocket framing", () => {
  it("computes Sec-WebSocket-Accept as RFC 6455 §1.3's example", () => {
    expect(websocketAccept("dGhlIHNhbXBsZSBub25jZQ==")).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  it("unmasks client frames of every length class and rejects fragmented control frames", () => {
    const parser = new WsFrameParser(1 << 20);
    for (const n of [0, 125, 126, 65535, 65536]) {
      const payload = Buffer.alloc(n, 7);
      const [frame] = parser.push(encodeMaskedWsFrame(Opcode.Binary, payload, Buffer.from([1, 2, 3, 4])));
      expect(frame!.payload.equals(payload)).toBe(true);
    }
    expect(() => parser.push(encodeMaskedWsFrame(Opcode.Ping, Buffer.alloc(1), Buffer.alloc(4), false))).toThrow(/control frame/);
    expect(encodeWsFrame(Opcode.Text, Buffer.from("hi"))).toEqual(Buffer.from([0x81, 2, 104, 105]));
  });
});
