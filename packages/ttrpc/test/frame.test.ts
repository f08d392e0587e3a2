import { describe, expect, it } from "vitest";
import { encodeHeader, FrameDecoder, MAX_DATA_LENGTH, MessageType, type DecodedFrame } from "../src/index.js";

function frame(streamId: number, type: MessageType, flags: number, data: Uint8Array): Buffer {
  return Buffer.concat([encodeHeader(streamId, type, flags, data.length), data]);
}

function decodeAll(decoder: FrameDecoder, chunks: Buffer[]): DecodedFrame[] {
  return chunks.flatMap((chunk) => [...decoder.push(chunk)]);
}

describe("frame header", () => {
  it("is 10 bytes: length and stream id big-endian, then type and flags", () => {
    expect([...encodeHeader(0x01020304, MessageType.Data, 0x05, 0x0a0b0c)]).toEqual([0, 0x0a, 0x0b, 0x0c, 1, 2, 3, 4, 3, 5]);
  });
});

describe("FrameDecoder", () => {
  const a = frame(1, MessageType.Request, 0, Buffer.from("hello"));
  const b = frame(3, MessageType.Data, 0x05, Buffer.alloc(0));
  const c = frame(5, MessageType.Response, 0, Buffer.from("world!"));
  const stream = Buffer.concat([a, b, c]);

  it("decodes frames however the bytes are split", () => {
    for (const size of [1, 2, 3, 7, 10, 11, stream.length]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) chunks.push(stream.subarray(i, i + size));
      const frames = decodeAll(new FrameDecoder(), chunks);
      expect(frames.map((f) => (f.oversized ? "oversized" : [f.streamId, f.type, f.flags, Buffer.from(f.data).toString()]))).toEqual([
        [1, MessageType.Request, 0, "hello"],
        [3, MessageType.Data, 0x05, ""],
        [5, MessageType.Response, 0, "world!"],
      ]);
    }
  });

  it("hands out a frame lying inside one chunk as a view of it, without copying", () => {
    const [first] = decodeAll(new FrameDecoder(), [stream]);
    expect(first?.oversized).toBe(false);
    if (first && !first.oversized) expect(first.data.buffer).toBe(stream.buffer);
  });

  it("reports an oversized frame at its header and skips its data without buffering it", () => {
    const decoder = new FrameDecoder(16);
    const big = frame(7, MessageType.Request, 0, Buffer.alloc(17, 1));
    const frames = decodeAll(decoder, [big.subarray(0, 12), big.subarray(12), a]);
    expect(frames[0]).toMatchObject({ oversized: true, streamId: 7, length: 17 });
    expect(frames[1]).toMatchObject({ oversized: false, streamId: 1 });
    expect(decoder.pending).toBe(0);
  });

  it("refuses frames over 4 MiB by default", () => {
    const header = encodeHeader(9, MessageType.Request, 0, MAX_DATA_LENGTH + 1);
    expect(decodeAll(new FrameDecoder(), [header])[0]).toMatchObject({ oversized: true, length: MAX_DATA_LENGTH + 1 });
  });

  it("counts what a truncated frame left pending", () => {
    const decoder = new FrameDecoder();
    expect(decodeAll(decoder, [a.subarray(0, 12)])).toEqual([]);
    expect(decoder.pending).toBeGreaterThan(0);
  });
});
