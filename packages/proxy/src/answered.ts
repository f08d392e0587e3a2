import { invalidArgument } from "@berth/core";

/**
 * A message a reply must carry. proto3 leaves every message field optional, so a broken proxy
 * can answer without one; that is its mistake, reported as such rather than as a crash.
 */
export function answered<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw invalidArgument(`proxy answered without ${what}`);
  return value;
}
