/**
 * How an object exposes itself to a filter: given a field path (["name"], ["labels", "a.b"], ...)
 * return the field's value, or undefined when the object has no such field.
 */
export type FieldLookup = (fieldpath: readonly string[]) => string | undefined;

/** A parsed filter, reusable for any number of objects. */
export interface Filter {
  match(lookup: FieldLookup): boolean;
  /** The text the filter was parsed from. */
  readonly source: string;
}

/**
 * One `fieldpath [operator value]` term.
 *
 * - present: the field exists.
 * - equal: the field exists and equals `value`.
 * - notEqual: the field's value, "" when absent, differs from `value` (so a missing field is
 *   "not equal" to anything but the empty string).
 * - matches: `pattern` finds a match in the field's value, "" when absent.
 */
export type Selector =
  | { readonly kind: "present"; readonly fieldpath: readonly string[] }
  | { readonly kind: "equal" | "notEqual"; readonly fieldpath: readonly string[]; readonly value: string }
  | { readonly kind: "matches"; readonly fieldpath: readonly string[]; readonly value: string; readonly pattern: RegExp };

export function selectorMatches(selector: Selector, lookup: FieldLookup): boolean {
  const actual = lookup(selector.fieldpath);
  switch (selector.kind) {
    case "present":
      return actual !== undefined;
    case "equal":
      return actual === selector.value;
    case "notEqual":
      return (actual ?? "") !== selector.value;
    case "matches":
      return selector.pattern.test(actual ?? "");
  }
}

/** Matches everything: what an empty filter string or an empty list of filters means. */
export const alwaysFilter: Filter = Object.freeze({
  source: "",
  match: (_lookup: FieldLookup) => true,
});

/** Every selector must match (the comma-separated terms of one filter string). */
export class AllOf implements Filter {
  readonly selectors: readonly Selector[];

  constructor(
    readonly source: string,
    selectors: readonly Selector[],
  ) {
    this.selectors = Object.freeze([...selectors]);
  }

  match(lookup: FieldLookup): boolean {
    return this.selectors.every((s) => selectorMatches(s, lookup));
  }
}

/** At least one filter must match (a list of filter strings). */
export class AnyOf implements Filter {
  readonly filters: readonly Filter[];
  /** The member sources joined by " || ". */
  readonly source: string;

  constructor(filters: readonly Filter[]) {
    this.filters = Object.freeze([...filters]);
    this.source = filters.map((f) => f.source).join(" || ");
  }

  match(lookup: FieldLookup): boolean {
    return this.filters.some((f) => f.match(lookup));
  }
}
