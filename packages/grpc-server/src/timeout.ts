/** Milliseconds per unit of grpc-timeout (gRPC over HTTP/2: Hour, Minute, Second, milli, micro, nano). */
const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 1e-3, n: 1e-6 };

/** Longest timer Node keeps (2^31-1 ms); longer deadlines are as good as none. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A `grpc-timeout` value ("1 to 8 digits" and a unit) in milliseconds, or undefined if malformed. */
export function parseTimeout(value: string): number | undefined {
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (!match) return undefined;
  return Math.min(Math.ceil(Number(match[1]) * UNIT_MS[match[2]!]!), MAX_TIMER_MS);
}
