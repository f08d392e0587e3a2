import { describe, it, expect } from "vitest";
import { isBerthError } from "../errdefs/index.js";
import { EOF, Scanner } from "./scanner.js";

type Tok = [kind: string, start: number, text: string];

/** Tokenises a whole input the way the parser would: value position right after an operator. */
function tokens(input: string): Tok[] {
  const scanner = new Scanner(input);
  const out: Tok[] = [];
  let valuePosition = false;
  for (;;) {
    const t = scanner.next(valuePosition);
    out.push([t.kind, t.start, t.text]);
    if (t.kind === "eof") return out;
    if (t.kind === "operator") valuePosition = true;
    else if (t.kind === "value" || t.kind === "quoted" || t.kind === "separator") valuePosition = false;
  }
}

function scanError(input: string): string {
  try {
    tokens(input);
  } catch (err) {
    if (!isBerthError(err)) throw err;
    expect(err.errClass).toBe("InvalidArgument");
    return err.message;
  }
  throw new Error(`expected ${JSON.stringify(input)} to fail scanning`);
}

describe("Scanner", () => {
  it("reads a single field", () => {
    expect(tokens("image")).toEqual([
      ["field", 0, "image"],
      ["eof", 5, ""],
    ]);
  });

  it("reads selectors with operators and separators", () => {
    expect(tokens("name==web,tier!=db")).toEqual([
      ["field", 0, "name"],
      ["operator", 4, "=="],
      ["value", 6, "web"],
      ["separator", 9, ","],
      ["field", 10, "tier"],
      ["operator", 14, "!="],
      ["value", 16, "db"],
      ["eof", 18, ""],
    ]);
  });

  it("splits field paths on dots but keeps dots inside values", () => {
    expect(tokens("spec.labels==v1.2-rc_3.x")).toEqual([
      ["field", 0, "spec"],
      ["separator", 4, "."],
      ["field", 5, "labels"],
      ["operator", 11, "=="],
      ["value", 13, "v1.2-rc_3.x"],
      ["eof", 24, ""],
    ]);
  });

  it("takes any run of operator characters as one operator token", () => {
    expect(tokens("a=b,c!~=d")).toEqual([
      ["field", 0, "a"],
      ["operator", 1, "="],
      ["value", 2, "b"],
      ["separator", 3, ","],
      ["field", 4, "c"],
      ["operator", 5, "!~="],
      ["value", 8, "d"],
      ["eof", 9, ""],
    ]);
  });

  it("keeps regexp punctuation and backslashes in unquoted values", () => {
    expect(tokens(String.raw`ref~=^[a-f]\d+$,x=y`)).toEqual([
      ["field", 0, "ref"],
      ["operator", 3, "~="],
      ["value", 5, String.raw`^[a-f]\d+$`],
      ["separator", 15, ","],
      ["field", 16, "x"],
      ["operator", 17, "="],
      ["value", 18, "y"],
      ["eof", 19, ""],
    ]);
  });

  it("reads quoted literals with each delimiter, commas included", () => {
    expect(tokens("r~=/[xy]{1,3}/,s~=|a/b|,t==\"p, q\"")).toEqual([
      ["field", 0, "r"],
      ["operator", 1, "~="],
      ["quoted", 3, "/[xy]{1,3}/"],
      ["separator", 14, ","],
      ["field", 15, "s"],
      ["operator", 16, "~="],
      ["quoted", 18, "|a/b|"],
      ["separator", 23, ","],
      ["field", 24, "t"],
      ["operator", 25, "=="],
      ["quoted", 27, '"p, q"'],
      ["eof", 33, ""],
    ]);
  });

  it("keeps escapes, including an escaped delimiter, inside a quoted literal", () => {
    expect(tokens(String.raw`p~=/a\/b/`)).toEqual([
      ["field", 0, "p"],
      ["operator", 1, "~="],
      ["quoted", 3, String.raw`/a\/b/`],
      ["eof", 9, ""],
    ]);
    expect(tokens(String.raw`"say \"hi\"\t\x41\101\u00e9\U0001F600".k`)[0]).toEqual([
      "quoted",
      0,
      String.raw`"say \"hi\"\t\x41\101\u00e9\U0001F600"`,
    ]);
  });

  it("reads a leading quoted field", () => {
    expect(tokens('"my key".sub==v')).toEqual([
      ["quoted", 0, '"my key"'],
      ["separator", 8, "."],
      ["field", 9, "sub"],
      ["operator", 12, "=="],
      ["value", 14, "v"],
      ["eof", 15, ""],
    ]);
  });

  it("handles non-ASCII values with UTF-16 offsets", () => {
    expect(tokens("name~=鯨🐳,x=y")).toEqual([
      ["field", 0, "name"],
      ["operator", 4, "~="],
      ["value", 6, "鯨🐳"],
      ["separator", 9, ","],
      ["field", 10, "x"],
      ["operator", 11, "="],
      ["value", 12, "y"],
      ["eof", 13, ""],
    ]);
  });

  it("skips whitespace before tokens", () => {
    expect(tokens(" a\t= b   ")).toEqual([
      ["field", 1, "a"],
      ["operator", 3, "="],
      ["value", 5, "b"],
      ["eof", 9, ""],
    ]);
  });

  it("ends a value at whitespace, so the next word is a field", () => {
    expect(tokens("k=one two")).toEqual([
      ["field", 0, "k"],
      ["operator", 1, "="],
      ["value", 2, "one"],
      ["field", 6, "two"],
      ["eof", 9, ""],
    ]);
  });

  it("returns a separator where a value is missing", () => {
    expect(tokens("k==,j!=z")).toEqual([
      ["field", 0, "k"],
      ["operator", 1, "=="],
      ["separator", 3, ","],
      ["field", 4, "j"],
      ["operator", 5, "!="],
      ["value", 7, "z"],
      ["eof", 8, ""],
    ]);
  });

  it("returns characters it does not recognise outside values one at a time", () => {
    expect(tokens("a-b")).toEqual([
      ["field", 0, "a"],
      ["other", 1, "-"],
      ["field", 2, "b"],
      ["eof", 3, ""],
    ]);
  });

  it("peeks without skipping whitespace or consuming", () => {
    const scanner = new Scanner("a ,");
    scanner.next(false);
    expect(scanner.peek()).toBe(0x20);
    expect(scanner.offset).toBe(1);
    expect(scanner.next(false)).toEqual({ kind: "separator", start: 2, text: "," });
    expect(scanner.peek()).toBe(EOF);
  });

  it("rejects unterminated quoted literals, at the opening quote", () => {
    expect(scanError("labels.docker.io/key==v")).toBe(
      "filters: parse error: [labels.docker.io >|/|< key==v]: quoted literal not terminated",
    );
    expect(scanError('k."line\nbreak"')).toContain("quoted literal not terminated");
  });

  it("rejects bad escape sequences", () => {
    expect(scanError(String.raw`k."\q"`)).toBe(String.raw`filters: parse error: [k. >|"|< \q"]: illegal escape sequence`);
    expect(scanError(String.raw`k."\xg1"`)).toContain("illegal numeric escape sequence");
    expect(scanError(String.raw`k."\12"`)).toContain("illegal numeric escape sequence");
    expect(scanError(String.raw`k."\u12"`)).toContain("illegal numeric escape sequence");
    // inside "..." only \" is a quote escape; \/ is for /.../ literals
    expect(scanError(String.raw`k."a\/b"`)).toContain("illegal escape sequence");
  });

  it("rejects NUL and unpaired surrogates", () => {
    expect(scanError("ab\u0000cd")).toBe("filters: parse error: [ab >|\u0000|< cd]: unexpected null");
    expect(scanError("k==a\ud800")).toContain("rune error");
  });
});
