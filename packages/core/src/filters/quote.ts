/**
 * Decoding of quoted literals. A literal is delimited by `"`, or (for regular expressions) by `/`
 * or `|`, and inside it uses Go's string escapes: \a \b \f \n \r \t \v \\, the delimiter itself
 * escaped, \ooo (octal byte), \xhh (hex byte), \uhhhh and \Uhhhhhhhh (code points).
 *
 * As in Go, \x and octal escapes produce raw bytes, so "\xc3\xa9" is "é"; bytes that do not form
 * valid UTF-8 decode to U+FFFD.
 */

export class QuoteSyntaxError extends Error {
  override readonly name = "QuoteSyntaxError";
  constructor() {
    super("quote syntax error");
  }
}

const DELIMITERS = new Set(['"', "/", "|"]);

const SIMPLE: Readonly<Record<string, number>> = {
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  v: 0x0b,
  "\\": 0x5c,
};

// ignoreBOM: keep a leading U+FEFF instead of silently dropping it.
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** The string a quoted literal (delimiters included) stands for. Throws QuoteSyntaxError. */
export function unquote(literal: string): string {
  const quote = literal[0];
  if (literal.length < 2 || quote === undefined || !DELIMITERS.has(quote) || literal.at(-1) !== quote) {
    throw new QuoteSyntaxError();
  }
  const body = literal.slice(1, -1);
  if (body.includes("\n")) throw new QuoteSyntaxError();
  if (!body.includes("\\")) {
    if (body.includes(quote)) throw new QuoteSyntaxError();
    return body;
  }

  const bytes: number[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body.codePointAt(i) ?? 0;
    const ch = String.fromCodePoint(c);
    i += ch.length;
    if (ch === quote) throw new QuoteSyntaxError(); // an unescaped delimiter cannot be inside
    if (ch !== "\\") {
      pushCodePoint(bytes, c);
      continue;
    }

    const e = body[i++];
    if (e === undefined) throw new QuoteSyntaxError();
    const simple = SIMPLE[e];
    if (simple !== undefined) {
      bytes.push(simple);
    } else if (e === quote) {
      bytes.push(e.charCodeAt(0));
    } else if (e === "x") {
      bytes.push(digits(body, i, 2, 16));
      i += 2;
    } else if (e === "u" || e === "U") {
      const n = e === "u" ? 4 : 8;
      const cp = digits(body, i, n, 16);
      if (cp > 0x10ffff) throw new QuoteSyntaxError();
      pushCodePoint(bytes, cp);
      i += n;
    } else if (e >= "0" && e <= "7") {
      const byte = digits(body, i - 1, 3, 8);
      if (byte > 0xff) throw new QuoteSyntaxError();
      bytes.push(byte);
      i += 2;
    } else {
      throw new QuoteSyntaxError();
    }
  }
  return utf8.decode(Uint8Array.from(bytes));
}

function digits(s: string, at: number, count: number, base: number): number {
  const text = s.slice(at, at + count);
  let value = 0;
  for (const d of text) {
    const v = parseInt(d, base);
    if (Number.isNaN(v)) throw new QuoteSyntaxError();
    value = value * base + v;
  }
  if (text.length !== count) throw new QuoteSyntaxError();
  return value;
}

/** Appends the UTF-8 encoding of a code point; surrogates (not characters) become U+FFFD, as in Go. */
function pushCodePoint(out: number[], cp: number): void {
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
  if (cp < 0x80) {
    out.push(cp);
  } else if (cp < 0x800) {
    out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  } else {
    out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  }
}
