import { parseError } from "./error.js";
import { AllOf, AnyOf, alwaysFilter } from "./filter.js";
import type { Filter, Selector } from "./filter.js";
import { QuoteSyntaxError, unquote } from "./quote.js";
import { compilePattern } from "./regexp.js";
import { EOF, Scanner } from "./scanner.js";
import type { Token } from "./scanner.js";

/*
 * The filter language, as containerd defines it:
 *
 *   filter    := "" | selector ("," selector)*
 *   selector  := fieldpath [operator value]      no operator: the field must be present
 *   fieldpath := field ("." field)*
 *   field     := identifier | "quoted"
 *   operator  := "==" | "!=" | "~="
 *   value     := unquoted | "quoted"            and for "~=" also /quoted/ or |quoted|
 *
 * identifier is [A-Za-z0-9_]+; unquoted is a run of visible characters without commas. Whitespace
 * may come before a field, an operator or a value, but not between a field and the "." or ","
 * after it, nor after a value: containerd refuses `name ,x`, `a .b` and `name==x ` and so do we.
 */

const COMMA = 0x2c;
const DOT = 0x2e;

const OPERATORS = { "==": "equal", "!=": "notEqual", "~=": "matches" } as const;
type OperatorText = keyof typeof OPERATORS;

function isOperator(text: string): text is OperatorText {
  return Object.hasOwn(OPERATORS, text);
}

/**
 * Parses one filter string: comma-separated selectors that must all match. The empty string
 * matches everything. Throws an InvalidArgument BerthError when the input is malformed or a `~=`
 * pattern is not a valid regular expression.
 */
export function parseFilter(input: string): Filter {
  if (input === "") return alwaysFilter;
  return new AllOf(input, new Parser(input).selectors());
}

/**
 * Parses a list of filter strings into one filter that matches when any of them does. An empty
 * list matches everything. Every string is parsed, so any malformed one throws.
 */
export function parseFilters(inputs: readonly string[]): Filter {
  const filters = inputs.map(parseFilter);
  if (filters.length === 0) return alwaysFilter;
  if (filters.length === 1 && filters[0] !== undefined) return filters[0];
  return new AnyOf(filters);
}

class Parser {
  readonly #input: string;
  readonly #scanner: Scanner;

  constructor(input: string) {
    this.#input = input;
    this.#scanner = new Scanner(input);
  }

  selectors(): Selector[] {
    const selectors = [this.#selector()];
    for (;;) {
      const c = this.#scanner.peek();
      if (c === EOF) return selectors;
      if (c !== COMMA) throw this.#fail(this.#scanner.offset, `unexpected input: ${String.fromCodePoint(c)}`);
      this.#scanner.next(false);
      selectors.push(this.#selector());
    }
  }

  #selector(): Selector {
    const fieldpath = Object.freeze(this.#fieldpath());
    const c = this.#scanner.peek();
    if (c === EOF || c === COMMA) return { kind: "present", fieldpath };

    const kind = this.#operator();
    const token = this.#scanner.next(true);
    const value = this.#value(token, kind === "matches");
    if (kind !== "matches") return { kind, fieldpath, value };

    let pattern: RegExp;
    try {
      pattern = compilePattern(value);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw this.#fail(token.start, `invalid regular expression ${JSON.stringify(value)}: ${reason}`, err);
    }
    return { kind, fieldpath, value, pattern };
  }

  #fieldpath(): string[] {
    const fields = [this.#field()];
    while (this.#scanner.peek() === DOT) {
      this.#scanner.next(false);
      fields.push(this.#field());
    }
    return fields;
  }

  #field(): string {
    const token = this.#scanner.next(false);
    if (token.kind === "field") return token.text;
    if (token.kind === "quoted") return this.#unquote(token, false);
    throw this.#fail(token.start, "expected field or quoted");
  }

  #operator(): (typeof OPERATORS)[OperatorText] {
    const token = this.#scanner.next(false);
    if (token.kind !== "operator") throw this.#fail(token.start, 'expected an operator ("=="|"!="|"~=")');
    if (!isOperator(token.text)) throw this.#fail(token.start, `unsupported operator ${JSON.stringify(token.text)}`);
    return OPERATORS[token.text];
  }

  #value(token: Token, regexpQuotes: boolean): string {
    if (token.kind === "value") return token.text;
    if (token.kind === "quoted") return this.#unquote(token, regexpQuotes);
    throw this.#fail(token.start, "expected value or quoted");
  }

  /** `/.../` and `|...|` are only for regular expressions; everywhere else quotes are `"`. */
  #unquote(token: Token, regexpQuotes: boolean): string {
    if (!regexpQuotes && !token.text.startsWith('"')) throw this.#fail(token.start, "invalid quote encountered");
    try {
      return unquote(token.text);
    } catch (err) {
      if (!(err instanceof QuoteSyntaxError)) throw err;
      throw this.#fail(token.start, `unquoting failed: ${err.message}`, err);
    }
  }

  #fail(pos: number, message: string, cause?: unknown) {
    return parseError(this.#input, pos, message, cause);
  }
}
