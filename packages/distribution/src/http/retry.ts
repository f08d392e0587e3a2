import { setTimeout as sleep } from "node:timers/promises";

/** How often and how patiently a request is repeated after a 5xx or a dropped connection. */
export interface RetryPolicy {
  /** Tries in all, the first included (default 5). */
  readonly attempts: number;
  /** Delay before the first retry; doubles each time (default 200 ms). */
  readonly baseDelayMs: number;
  /** Ceiling for one delay, Retry-After included (default 5 s). */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 200, maxDelayMs: 5_000 };

/** Statuses worth repeating: the server is busy or a gateway lost its upstream. */
export function isRetriableStatus(status: number): boolean {
  return status === 408 || status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

const TRANSIENT_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

/**
 * A connection that dropped or stalled. A refused connection is not transient: the endpoint is
 * down, and the next mirror (or the caller) should hear about it at once.
 */
export function isTransientError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined && TRANSIENT_CODES.has(code)) return true;
    if (e.name === "AbortError") return false;
  }
  return false;
}

/** The server speaks something other than TLS on this port (plain HTTP, usually). */
export function isTlsProtocolError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    if (code === "EPROTO" || code.startsWith("ERR_SSL_")) return true;
    if (/wrong version number|packet length too long|unknown protocol/i.test(e.message)) return true;
  }
  return false;
}

/** Exponential backoff with jitter, or the server's Retry-After when it gave one (capped). */
export async function backoff(policy: RetryPolicy, retry: number, signal?: AbortSignal, retryAfter?: string): Promise<void> {
  let delay = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  delay = delay / 2 + Math.random() * (delay / 2);
  const seconds = retryAfter !== undefined ? Number(retryAfter) : NaN;
  if (Number.isFinite(seconds) && seconds >= 0) delay = Math.min(policy.maxDelayMs, seconds * 1000);
  await sleep(delay, undefined, { signal });
}
