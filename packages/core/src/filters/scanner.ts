import { parseError } from "./error.js";

/** What `Scanner.peek` returns at the end of the input. */
export const EOF = -1;

/**
 * - field: a run of [A-Za-z0-9_] outside value position
 * - value: an unquoted value (only in value position)
 * - quoted: a complete quoted literal, quotes and escapes still in place
 * - separator: "," or "."
 * - operator: a maximal run of "=", "!" and "~" (the parser decides whether it is a real operator)
 * - other: any single character that starts none of the above
 */
export type TokenKind = "eof" | "field" | "value" | "quoted" | "separator" | "operator" | "other";

export interface Token {
  readonly kind: TokenKind;
  /** UTF-16 offset of the token's first character (the input length for eof). */
  readonly start: number;
  /** The token exactly as written. */
  readonly text: string;
}

const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const DOT = 0x2e;

// Characters that open (and close) a quoted literal. Whether a given kind of quote is allowed
// where it appears is the parser's business; the scanner accepts all three everywhere.
const QUOTES = new Set([0x22 /* " */, 0x2f /* / */, 0x7c /* | */]);
const OPERATOR_CHARS = new Set([0x3d /* = */, 0x21 /* ! */, 0x7e /* ~ */]);
// Single-letter escapes valid in every quote kind: \a \b \f \n \r \t \v \\ (plus the quote itself).
const SIMPLE_ESCAPES = new Set([..."abfnrtv\\"].map((c) => c.charCodeAt(0)));

const WHITE_SPACE = /^\p{White_Space}$/u;
// Letters, marks, numbers, punctuation and symbols: Go's "graphic and not space".
const VISIBLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

export function isSpace(c: number): boolean {
  if (c < 0x80) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  return WHITE_SPACE.test(String.fromCodePoint(c));
}

export function isFieldChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

/** May this character continue an unquoted value? Anything visible except a comma. */
export function isValueChar(c: number): boolean {
  if (c < 0x80) return c > 0x20 && c < 0x7f && c !== COMMA;
  return VISIBLE.test(String.fromCodePoint(c));
}

function digitValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return Infinity;
}

/**
 * Splits a filter string into tokens on demand. Tokenising depends on where the parser is: right
 * after an operator, almost anything up to the next comma or whitespace is one value, while elsewhere
 * only identifiers, quotes, separators and operators are recognised. So the parser says which it
 * wants each time it asks for a token.
 *
 * Whitespace is skipped before a token, never by `peek`; the parser relies on that to reject
 * whitespace in the places containerd rejects it.
 *
 * Syntax errors found while scanning (unterminated quotes, bad escapes, NUL) are thrown at once as
 * InvalidArgument errors.
 */
export class Scanner {
  #pos = 0;

  constructor(readonly input: string) {}

  /** UTF-16 offset of the next unread character. */
  get offset(): number {
    return this.#pos;
  }

  /** The next code point, unread, or EOF. */
  peek(): number {
    return this.#at(this.#pos);
  }

  /** Skips whitespace, then reads one token. */
  next(valuePosition: boolean): Token {
    let c = this.peek();
    while (c !== EOF && isSpace(c)) {
      this.#step(c);
      c = this.peek();
    }
    const start = this.#pos;
    if (c === EOF) return { kind: "eof", start, text: "" };

    let kind: TokenKind;
    if (QUOTES.has(c)) {
      this.#skipQuoted(c);
      kind = "quoted";
    } else if (c === COMMA || c === DOT) {
      this.#step(c);
      kind = "separator";
    } else if (OPERATOR_CHARS.has(c)) {
      this.#skipWhile((d) => OPERATOR_CHARS.has(d));
      kind = "operator";
    } else if (valuePosition) {
      // The first character is taken whatever it is (it is not a quote, separator, operator or
      // space, or we would not be here); the rest must be visible non-commas.
      this.#step(c);
      this.#skipWhile(isValueChar);
      kind = "value";
    } else if (isFieldChar(c)) {
      this.#skipWhile(isFieldChar);
      kind = "field";
    } else {
      this.#step(c);
      kind = "other";
    }
    return { kind, start, text: this.input.slice(start, this.#pos) };
  }

  #at(i: number): number {
    if (i >= this.input.length) return EOF;
    const c = this.input.codePointAt(i) ?? EOF;
    if (c === 0) throw parseError(this.input, i, "unexpected null");
    // containerd (Go) refuses invalid UTF-8 and U+FFFD; a lone surrogate is JS's invalid UTF-8.
    if (c === 0xfffd || (c >= 0xd800 && c <= 0xdfff)) throw parseError(this.input, i, "rune error");
    return c;
  }

  #step(c: number): void {
    this.#pos += c > 0xffff ? 2 : 1;
  }

  #skipWhile(accept: (c: number) => boolean): void {
    for (let c = this.peek(); c !== EOF && accept(c); c = this.peek()) this.#step(c);
  }

  /** Reads a whole quoted literal opened by `quote`, checking every escape sequence in it. */
  #skipQuoted(quote: number): void {
    const start = this.#pos;
    this.#step(quote);
    for (;;) {
      const c = this.peek();
      if (c === EOF || c === NEWLINE) throw parseError(this.input, start, "quoted literal not terminated");
      this.#step(c);
      if (c === quote) return;
      if (c === BACKSLASH) this.#skipEscape(start, quote);
    }
  }

  /** Reads what follows a backslash inside a literal opened at `start`. */
  #skipEscape(start: number, quote: number): void {
    const c = this.peek();
    if (c === quote || SIMPLE_ESCAPES.has(c)) {
      this.#step(c);
      return;
    }
    let base: number;
    let count: number;
    if (c >= 0x30 && c <= 0x37) {
      [base, count] = [8, 3]; // \ooo: the first digit is part of the count
    } else if (c === 0x78 /* x */ || c === 0x75 /* u */ || c === 0x55 /* U */) {
      [base, count] = [16, c === 0x78 ? 2 : c === 0x75 ? 4 : 8];
      this.#step(c);
    } else {
      throw parseError(this.input, start, "illegal escape sequence");
    }
    for (let i = 0; i < count; i++) {
      const d = this.peek();
      if (d === EOF || digitValue(d) >= base) throw parseError(this.input, start, "illegal numeric escape sequence");
      this.#step(d);
    }
  }
}
