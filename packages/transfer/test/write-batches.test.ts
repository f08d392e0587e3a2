import { describe, expect, it } from "vitest";
import { WriteBatches } from "../src/write-batches.js";

describe("WriteBatches", () => {
  it("gathers chunks into two buffers in turn, refusing what does not fit", () => {
    const batches = new WriteBatches(8);
    expect(batches.add(Buffer.from("abc"))).toBe(true);
    expect(batches.add(Buffer.from("defgh"))).toBe(true);
    expect(batches.add(Buffer.from("i"))).toBe(false);
    const first = batches.take();
    expect(first.toString()).toBe("abcdefgh");
    expect(batches.size).toBe(0);
    // The next batch fills the other buffer: the first stays intact while it is written.
    expect(batches.add(Buffer.from("12345678"))).toBe(true);
    expect(first.toString()).toBe("abcdefgh");
    const second = batches.take();
    expect(second.toString()).toBe("12345678");
    expect(second.buffer === first.buffer && second.byteOffset === first.byteOffset).toBe(false);
    // The third reuses the first's buffer.
    batches.add(Buffer.from("xy"));
    expect(batches.take().toString()).toBe("xy");
    expect(first.subarray(0, 2).toString()).toBe("xy");
    batches.add(Buffer.from("dropped"));
    batches.clear();
    expect(batches.size).toBe(0);
    expect(batches.add(Buffer.alloc(9))).toBe(false);
  });
});
