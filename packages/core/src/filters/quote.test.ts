import { describe, it, expect } from "vitest";
import { QuoteSyntaxError, unquote } from "./quote.js";

describe("unquote", () => {
  it("returns the body of a literal without escapes", () => {
    expect(unquote('"plain text"')).toBe("plain text");
    expect(unquote('""')).toBe("");
    expect(unquote("/[a-z]+/")).toBe("[a-z]+");
    expect(unquote("|x/y|")).toBe("x/y");
  });

  it("decodes single-character escapes", () => {
    expect(unquote(String.raw`"\a\b\f\n\r\t\v\\"`)).toBe("\x07\b\f\n\r\t\v\\");
    expect(unquote(String.raw`"say \"hi\""`)).toBe('say "hi"');
  });

  it("decodes an escaped delimiter only for its own kind of literal", () => {
    expect(unquote(String.raw`/a\/b/`)).toBe("a/b");
    expect(unquote(String.raw`|a\|b|`)).toBe("a|b");
    expect(() => unquote(String.raw`"a\/b"`)).toThrow(QuoteSyntaxError);
    expect(() => unquote(String.raw`/a\"b/`)).toThrow(QuoteSyntaxError);
  });

  it("keeps a double quote unescaped inside other delimiters", () => {
    expect(unquote('/say "x"/')).toBe('say "x"');
  });

  it("decodes numeric escapes", () => {
    expect(unquote(String.raw`"\x41\102\u00e9\U0001F600"`)).toBe("ABé😀");
  });

  it("treats \\x and octal escapes as bytes of UTF-8", () => {
    expect(unquote(String.raw`"\xc3\xa9"`)).toBe("é");
    expect(unquote(String.raw`"\303\251"`)).toBe("é");
    // a byte that is not valid UTF-8 on its own becomes the replacement character
    expect(unquote(String.raw`"\xff"`)).toBe("\ufffd");
  });

  it("passes non-ASCII text through alongside escapes", () => {
    expect(unquote(String.raw`"鯨\t🐳"`)).toBe("鯨\t🐳");
  });

  it("keeps a leading byte order mark", () => {
    expect(unquote(String.raw`"\ufeffx"`)).toBe("\ufeffx");
  });

  it("turns escaped surrogates into the replacement character", () => {
    expect(unquote(String.raw`"\ud800"`)).toBe("\ufffd");
  });

  it("rejects values out of range", () => {
    expect(() => unquote(String.raw`"\400"`)).toThrow(QuoteSyntaxError);
    expect(() => unquote(String.raw`"\U00110000"`)).toThrow(QuoteSyntaxError);
  });

  it("rejects malformed literals", () => {
    for (const bad of ['"', '"abc', "'abc'", '"a"b"', String.raw`"\q"`, String.raw`"\x4"`, String.raw`"a\"`, '"a\nb"']) {
      expect(() => unquote(bad), bad).toThrow(QuoteSyntaxError);
    }
  });
});
