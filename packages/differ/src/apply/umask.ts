import { readFileSync } from "node:fs";

/**
 * The process's umask, read from /proc without changing it: process.umask() with no argument
 * briefly sets the mask to read it (deprecated for that race). The applier never changes the
 * umask; it compares each mode against it and fixes the few that it would have clipped.
 */
export function currentUmask(): number {
  try {
    const m = /^Umask:\s*([0-7]+)$/m.exec(readFileSync("/proc/self/status", "latin1"));
    if (m) return parseInt(m[1]!, 8);
  } catch {
    // No /proc: assume the strictest mask, so every mode is set explicitly.
  }
  return 0o777;
}
