import { invalidArgument } from "../errdefs/index.js";
import type { BerthError } from "../errdefs/index.js";

/**
 * An InvalidArgument error for a filter that does not parse. The text follows containerd's
 * layout so clients see the same thing from either daemon:
 *
 *   filters: parse error: [labels. >|?|< "x"]: expected field or quoted
 *
 * The character at `pos` is bracketed; when `pos` is at (or past) the end, the whole input is shown.
 * Unlike containerd, which cuts at byte offsets, the marked character is always one whole code point.
 */
export function parseError(input: string, pos: number, message: string, cause?: unknown): BerthError {
  return invalidArgument(`filters: parse error: ${locate(input, pos)}: ${message}`, cause);
}

function locate(input: string, pos: number): string {
  if (pos >= input.length) return `[${input}]`;
  const here = String.fromCodePoint(input.codePointAt(pos) ?? 0);
  return `[${input.slice(0, pos)} >|${here}|< ${input.slice(pos + here.length)}]`;
}
