/**
 * Compiles the value of a `~=` selector. containerd uses Go's RE2; Berth uses JavaScript's engine,
 * bridging the differences that matter most for filters:
 *
 * - A leading RE2 flag group such as `(?i)` or `(?is)` becomes the equivalent JS flags.
 * - The pattern is compiled in unicode mode when it is valid there, so `.` and classes work on
 *   code points as in RE2 and `\p{...}` is available. RE2 also allows escaping any punctuation
 *   (`\-`, `\#`) and takes a stray `{` or `]` literally, which unicode mode refuses; such patterns
 *   fall back to JS's legacy mode, which reads them the way RE2 does.
 *
 * Throws the engine's SyntaxError when the pattern compiles in neither mode. Matching is an
 * unanchored search, as with RE2's MatchString; the result carries no `g`/`y` flag, so `test` keeps
 * no state between calls.
 */
export function compilePattern(pattern: string): RegExp {
  let source = pattern;
  let flags = "";
  const leading = /^\(\?([ims]+)\)/.exec(pattern);
  if (leading) {
    flags = [...new Set(leading[1] ?? "")].join("");
    source = pattern.slice(leading[0].length);
  }
  try {
    return new RegExp(source, `${flags}u`);
  } catch {
    return new RegExp(source, flags);
  }
}
