import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { GatheredInput } from "../src/apply/gathered-input.js";

/** Yields `data` in `size`-byte chunks, each a macrotask apart, counting what it has handed over. */
function source(data: Buffer, size: number, read = { bytes: 0 }): AsyncGenerator<Uint8Array> {
  return (async function* () {
    for (let at = 0; at < data.length; at += size) {
      await sleep(0);
      const chunk = data.subarray(at, at + size);
      read.bytes += chunk.byteLength;
      yield chunk;
    }
  })();
}

async function drain(input: GatheredInput, delayMs: number): Promise<{ data: Buffer; pieces: number[] }> {
  const parts: Buffer[] = [];
  const pieces: number[] = [];
  for (let piece = await input.next(); piece !== undefined; piece = await input.next()) {
    parts.push(Buffer.from(piece)); // a gathered piece is only valid until the next call
    pieces.push(piece.byteLength);
    if (delayMs > 0) await sleep(delayMs);
  }
  return { data: Buffer.concat(parts), pieces };
}

describe("GatheredInput", () => {
  it("hands a consumer that fell behind every chunk that arrived meanwhile, in one piece of at most the batch size", async () => {
    const data = randomBytes(3 * 1024 * 1024 + 5);
    const input = new GatheredInput(source(data, 16 * 1024), 256 * 1024, 8 * 1024 * 1024, new AbortController().signal);
    await sleep(50); // 16 KiB chunks pile up
    const { data: out, pieces } = await drain(input, 5);
    expect(out.equals(data)).toBe(true);
    expect(Math.max(...pieces)).toBe(256 * 1024);
    expect(pieces.length).toBeLessThan(data.length / (16 * 1024) / 4);
  });

  it("hands a consumer that keeps up each chunk as it comes, without waiting for a batch", async () => {
    const data = randomBytes(64 * 1024);
    const input = new GatheredInput(source(data, 4096), 1024 * 1024, 1024 * 1024, new AbortController().signal);
    const { data: out, pieces } = await drain(input, 0);
    expect(out.equals(data)).toBe(true);
    expect(pieces.every((n) => n === 4096)).toBe(true);
  });

  it("stops reading the source once the read-ahead is queued, and goes on as the consumer takes", async () => {
    const data = randomBytes(2 * 1024 * 1024);
    const read = { bytes: 0 };
    const input = new GatheredInput(source(data, 64 * 1024, read), 128 * 1024, 256 * 1024, new AbortController().signal);
    await sleep(100);
    expect(read.bytes).toBe(256 * 1024);
    await input.next();
    await sleep(20);
    expect(read.bytes).toBe(256 * 1024 + 128 * 1024);
  });

  it("throws the source's error after the bytes that came before it", async () => {
    const input = new GatheredInput(
      (async function* () {
        yield Buffer.from("abc");
        throw new Error("connection reset");
      })(),
      1024,
      4096,
      new AbortController().signal,
    );
    await sleep(10);
    expect(Buffer.from((await input.next())!).toString()).toBe("abc");
    await expect(input.next()).rejects.toThrow("connection reset");
  });

  it("ends the source once the signal aborts, even while it waits for room", async () => {
    let closed = false;
    const endless = (async function* () {
      try {
        for (;;) yield Buffer.alloc(1024);
      } finally {
        closed = true;
      }
    })();
    const stop = new AbortController();
    new GatheredInput(endless, 1024, 4096, stop.signal);
    await sleep(10);
    expect(closed).toBe(false);
    stop.abort();
    await sleep(10);
    expect(closed).toBe(true);
  });
});
