/**
 * The `startedat` / `updatedat` files hold one RFC 3339 time, as Go's time.MarshalText writes
 * it (up to nanoseconds, any offset). We write toISOString(), which Go parses too.
 */

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

export const formatTimestamp = (date: Date): string => date.toISOString();

/** The time in `text`, or undefined when it is empty, malformed or Go's zero time. */
export function parseTimestamp(text: string): Date | undefined {
  const match = RFC3339.exec(text.trim());
  if (!match) return undefined;
  // Date.parse is only specified for milliseconds; Go writes nanoseconds.
  const millis = (match[2] ?? "").slice(0, 3).padEnd(3, "0");
  const ms = Date.parse(`${match[1]}.${millis}${match[3]}`);
  if (Number.isNaN(ms) || match[1]!.startsWith("0001-01-01")) return undefined;
  return new Date(ms);
}
