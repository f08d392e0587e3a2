import { createHash, randomBytes } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { GzipInflater, gzipInflateBackends } from "../src/index.js";

/** Random and repetitive runs, so both stored and back-referenced blocks occur. */
function sample(bytes: number): Buffer {
  const parts: Buffer[] = [];
  for (let n = 0; n < bytes; n += 8192) parts.push(n % 16384 === 0 ? randomBytes(4096) : Buffer.alloc(4096, n % 251));
  return Buffer.concat(parts);
}

/** Feeds `gz` in `inSize` pieces through output arrays of `outSize`, reusing one output array. */
async function inflateAll(inflater: GzipInflater, gz: Buffer, inSize: number, outSize: number): Promise<Buffer> {
  const out = Buffer.alloc(outSize);
  const parts: Buffer[] = [];
  for (let at = 0; at < gz.length; at += inSize) {
    const input = gz.subarray(at, at + inSize);
    let used = 0;
    for (;;) {
      const step = await inflater.step(input.subarray(used), out);
      used += step.consumed;
      parts.push(Buffer.from(out.subarray(0, step.produced)));
      if (step.produced === out.length) continue; // more may be waiting inside zlib
      if (used >= input.length) break;
    }
  }
  return Buffer.concat(parts);
}

describe("gzip inflate backends", () => {
  it("ISA-L is there on these machines (the set-up installs libisal-dev), ahead of zlib", () => {
    // Without it every gzip layer inflates ~3x slower; a set-up that lost it must not pass quietly.
    expect(gzipInflateBackends()).toEqual(["isa-l", "zlib"]);
    expect(new GzipInflater().backend).toBe("isa-l");
  });
});

describe.each(gzipInflateBackends())("GzipInflater (%s)", (backend) => {
  it("inflates what gzip wrote, in pieces of any size, into a reused output array", async () => {
    const data = sample(3 * 1024 * 1024 + 123);
    const gz = gzipSync(data);
    for (const [inSize, outSize] of [
      [1, 64 * 1024],
      [4096, 1000],
      [gz.length, 1024 * 1024],
    ] as const) {
      const inflater = new GzipInflater({ backend });
      const out = await inflateAll(inflater, inSize === 1 ? gz.subarray(0, 20000) : gz, inSize, outSize);
      if (inSize === 1) {
        // A prefix: what it has inflated so far is a prefix of the data, and the stream is not complete.
        expect(data.subarray(0, out.length).equals(out)).toBe(true);
        expect(inflater.complete).toBe(false);
      } else {
        expect(out.equals(data)).toBe(true);
        expect(inflater.complete).toBe(true);
      }
      inflater.close();
    }
  });

  it("digests what it produces with SHA-256 when asked, once", async () => {
    const data = sample(2 * 1024 * 1024 + 5);
    const inflater = new GzipInflater({ sha256: true, backend });
    const out = await inflateAll(inflater, gzipSync(data), 100_000, 256 * 1024);
    expect(out.equals(data)).toBe(true);
    expect(inflater.sha256()).toBe(createHash("sha256").update(data).digest("hex"));
    expect(() => inflater.sha256()).toThrow(/no digest/);
    expect(() => new GzipInflater({ backend }).sha256()).toThrow(/no digest/);
  });

  it("reads concatenated members as one stream and ignores trailing bytes that start no member, as Node's gunzip", async () => {
    const gz = Buffer.concat([gzipSync("hello "), gzipSync(Buffer.alloc(0)), gzipSync("world"), Buffer.from([0, 0, 0, 0])]);
    const inflater = new GzipInflater({ backend });
    const out = await inflateAll(inflater, gz, 7, 4);
    expect(out.toString()).toBe("hello world");
    expect(out.equals(gunzipSync(gz))).toBe(true);
    expect(inflater.complete).toBe(true);
  });

  it("rejects corrupt data with zlib's code and message", async () => {
    const gz = gzipSync(sample(200_000));
    const badCrc = Buffer.from(gz);
    badCrc[badCrc.length - 6]! ^= 0x01; // the CRC-32 trailer
    await expect(new GzipInflater({ backend }).step(badCrc, Buffer.alloc(300_000))).rejects.toMatchObject({ code: "Z_DATA_ERROR", message: "incorrect data check" });
    const badHeader = Buffer.from(gz);
    badHeader[2] = 0x07; // compression method: not deflate
    await expect(new GzipInflater({ backend }).step(badHeader, Buffer.alloc(1000))).rejects.toMatchObject({ code: "Z_DATA_ERROR" });
  });

  it("runs one step at a time, and refuses steps once closed", async () => {
    const inflater = new GzipInflater({ backend });
    const data = sample(100_000);
    const gz = gzipSync(data);
    const first = inflater.step(gz, Buffer.alloc(200_000));
    await expect(inflater.step(gz, Buffer.alloc(10))).rejects.toThrow(/already running/);
    expect(await first).toEqual({ consumed: gz.length, produced: data.length, memberEnded: true });
    inflater.close();
    await expect(inflater.step(Buffer.alloc(0), Buffer.alloc(1))).rejects.toThrow(/closed/);
  });
});
