import { createHash, randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { ChunkPool } from "../src/apply/chunk-pool.js";
import { PooledGunzip } from "../src/apply/pooled-gunzip.js";

const pooledGunzip = (source: AsyncIterable<Uint8Array>, pool: ChunkPool, signal?: AbortSignal) => new PooledGunzip(source, pool, signal)[Symbol.asyncIterator]();

async function* pieces(data: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

/** True when all `n` buffers of `pool` can be taken at once without waiting, i.e. none is held. */
async function allFree(pool: ChunkPool): Promise<boolean> {
  const stop = new AbortController();
  const taken: Buffer[] = [];
  const timer = setTimeout(() => stop.abort(), 200);
  try {
    for (let i = 0; i < pool.maxBuffers; i++) taken.push(await pool.take(stop.signal));
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    for (const b of taken) pool.release(b);
  }
}

describe("ChunkPool", () => {
  it("hands out at most maxBuffers, allocated as needed, and a taker waits for the last holder's release", async () => {
    const pool = new ChunkPool(16, 2);
    const a = await pool.take();
    expect(pool.allocated).toBe(1);
    const b = await pool.take();
    pool.retain(a.subarray(4, 8)); // a background write of a piece of `a`
    let third: Buffer | undefined;
    const waiting = pool.take().then((buf) => (third = buf));
    pool.release(a);
    await new Promise((r) => setTimeout(r, 20));
    expect(third).toBeUndefined(); // the write still holds `a`
    pool.release(a.subarray(4, 8));
    expect(await waiting).toBe(a); // reused, not a third allocation
    expect(pool.allocated).toBe(2);
    pool.release(Buffer.alloc(16)); // not the pool's: ignored
    pool.release(b);
    pool.release(a);
    expect(await allFree(pool)).toBe(true);
  });

  it("stops waiting when the signal aborts", async () => {
    const pool = new ChunkPool(8, 1);
    await pool.take();
    const stop = new AbortController();
    const waiting = pool.take(stop.signal);
    stop.abort(new Error("gave up"));
    await expect(waiting).rejects.toThrow("gave up");
  });
});

describe("PooledGunzip", () => {
  const data = Buffer.concat([randomBytes(300_000), Buffer.alloc(700_000, 1), randomBytes(5)]);
  const gz = gzipSync(data);

  it("yields full pooled chunks (the last one shorter) whose bytes are the data, digests them, and every buffer comes back", async () => {
    const pool = new ChunkPool(64 * 1024, 3);
    const sizes: number[] = [];
    const parts: Buffer[] = [];
    const gunzip = new PooledGunzip(pieces(gz, 10_000), pool);
    expect(gunzip.sha256).toBeUndefined();
    for await (const chunk of gunzip) {
      sizes.push(chunk.length);
      parts.push(Buffer.from(chunk));
      pool.release(chunk);
    }
    expect(Buffer.concat(parts).equals(data)).toBe(true);
    expect(gunzip.sha256).toBe(createHash("sha256").update(data).digest("hex"));
    expect(sizes.slice(0, -1).every((n) => n === 64 * 1024)).toBe(true);
    expect(sizes.at(-1)).toBe(data.length % (64 * 1024));
    expect(pool.allocated).toBeLessThanOrEqual(3);
    expect(await allFree(pool)).toBe(true);
  });

  it("decompresses ahead of a slow reader only as far as the pool allows", async () => {
    const pool = new ChunkPool(64 * 1024, 3);
    const reader = pooledGunzip(pieces(gz, 50_000), pool);
    const first = await reader.next();
    await new Promise((r) => setTimeout(r, 100)); // the producer runs ahead meanwhile
    expect(pool.allocated).toBe(3);
    pool.release(first.value as Buffer);
    await reader.return(undefined);
    await new Promise((r) => setTimeout(r, 50)); // the producer notices at its next step
    expect(await allFree(pool)).toBe(true); // a reader that stops early loses nothing
  });

  it("fails on a truncated stream (Z_BUF_ERROR) and on corrupt data (Z_DATA_ERROR)", async () => {
    const read = async (bytes: Buffer) => {
      const pool = new ChunkPool(64 * 1024, 2);
      for await (const chunk of pooledGunzip(pieces(bytes, 4096), pool)) pool.release(chunk);
    };
    await expect(read(gz.subarray(0, gz.length - 100))).rejects.toMatchObject({ code: "Z_BUF_ERROR" });
    const corrupt = Buffer.from(gz);
    corrupt[gz.length - 7]! ^= 0x10;
    await expect(read(corrupt)).rejects.toMatchObject({ code: "Z_DATA_ERROR" });
  });

  it("stops with the caller's abort", async () => {
    const pool = new ChunkPool(64 * 1024, 2);
    const stop = new AbortController();
    const reading = (async () => {
      for await (const chunk of pooledGunzip(pieces(gz, 4096), pool, stop.signal)) {
        stop.abort(new Error("cancelled by the caller"));
        pool.release(chunk);
      }
    })();
    await expect(reading).rejects.toThrow("cancelled by the caller");
  });
});
