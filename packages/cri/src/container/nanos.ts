/**
 * Wall-clock time in nanoseconds. Date.now() has millisecond resolution; the CRI's timestamps and
 * log lines want more, so the monotonic clock supplies the digits below the millisecond from an
 * anchor taken when the clock is made.
 */
export interface NanoClock {
  now(): bigint;
}

export function createNanoClock(): NanoClock {
  const wallAnchor = BigInt(Date.now()) * 1_000_000n;
  const monoAnchor = process.hrtime.bigint();
  return { now: () => wallAnchor + (process.hrtime.bigint() - monoAnchor) };
}

export const dateToNanos = (d: Date): bigint => BigInt(d.getTime()) * 1_000_000n;

/** Go's time.RFC3339Nano in UTC: fraction digits without trailing zeros, none when zero. */
export function rfc3339Nano(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  return `${base}${frac ? "." + frac : ""}Z`;
}
