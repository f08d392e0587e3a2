import { randomBytes } from "node:crypto";
import { resourceExhausted } from "@berth/core";

/** Defaults as the kubelet has them: tokens live a minute, at most 1000 are outstanding. */
export const DEFAULT_TOKEN_TTL_MS = 60_000;
export const DEFAULT_MAX_IN_FLIGHT = 1000;

export interface RequestCacheOptions {
  ttlMs?: number;
  maxInFlight?: number;
  /** The clock; tests pass their own to expire tokens without waiting. */
  now?: () => number;
}

/**
 * Requests waiting for their client, each under a random single-use token. A token is good
 * once, and only until it expires; expired entries are dropped whenever a new one is added.
 */
export class RequestCache<T> {
  private readonly entries = new Map<string, { value: T; expiresAt: number }>();
  private readonly ttlMs: number;
  private readonly maxInFlight: number;
  private readonly now: () => number;

  constructor(opts: RequestCacheOptions = {}) {
    this.ttlMs = opts.ttlMs ?? DEFAULT_TOKEN_TTL_MS;
    this.maxInFlight = opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.now = opts.now ?? Date.now;
  }

  /** Stores `value` and returns its token; fails with ResourceExhausted when too many wait. */
  insert(value: T): string {
    this.evictExpired();
    if (this.entries.size >= this.maxInFlight) {
      throw resourceExhausted(`maximum number of in-flight streaming requests (${this.maxInFlight}) exceeded`);
    }
    let token: string;
    do {
      // 12 random bytes: 16 URL-safe characters, unguessable for the token's short life.
      token = randomBytes(12).toString("base64url");
    } while (this.entries.has(token));
    this.entries.set(token, { value, expiresAt: this.now() + this.ttlMs });
    return token;
  }

  /** Takes the request for `token`: undefined if unknown, already used, or expired. */
  consume(token: string): T | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    this.entries.delete(token);
    return this.now() > entry.expiresAt ? undefined : entry.value;
  }

  get size(): number {
    return this.entries.size;
  }

  private evictExpired(): void {
    const now = this.now();
    // Insertion order is expiry order (one TTL for all), so stop at the first live entry.
    for (const [token, entry] of this.entries) {
      if (entry.expiresAt >= now) break;
      this.entries.delete(token);
    }
  }
}
