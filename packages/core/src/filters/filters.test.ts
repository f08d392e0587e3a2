import { describe, it, expect } from "vitest";
import { isBerthError } from "../errdefs/index.js";
import { alwaysFilter, lookupLabel, parseFilter, parseFilters } from "./index.js";
import type { FieldLookup, Filter } from "./index.js";

interface Image {
  name: string;
  kind?: string;
  labels?: Record<string, string>;
}

const corpus: Image[] = [
  /* 0 */ { name: "alpine", labels: { tier: "base" } },
  /* 1 */ { name: "busybox" },
  /* 2 */ { name: "alpine", labels: { tier: "edge", "release notes": "yes" } },
  /* 3 */ { name: "busybox", labels: { arch: "arm64" } },
  /* 4 */ { name: "nginx-proxy", labels: { 'odd \\ "key"': "set" } },
  /* 5 */ { name: "nginx-proxy", labels: { 'odd \\ "key".suffix': "set" } },
  /* 6 */ { name: "redis", kind: "cache, persistent" },
  /* 7 */ { name: "redix", kind: "bca" },
  /* 8 */ { name: "multi", labels: { tier: "v1_x.y-z" } },
  /* 9 */ {
    name: "oci",
    kind: "application/vnd.oci.image.manifest.v1+json",
    labels: { "a.b": "c", "ns/key": "v", "鯨": "🐳" },
  },
];
const everything = corpus.map((_, i) => i);

/** An adaptor in the style containerd's services use. */
function adapt(image: Image): FieldLookup {
  return (fieldpath) => {
    switch (fieldpath[0]) {
      case "name":
        return image.name === "" ? undefined : image.name;
      case "kind":
        return image.kind;
      case "labels":
        return lookupLabel(image.labels, fieldpath.slice(1));
      default:
        return undefined;
    }
  };
}

function matching(filter: Filter): number[] {
  return corpus.flatMap((image, i) => (filter.match(adapt(image)) ? [i] : []));
}

const select = (input: string) => matching(parseFilter(input));
const selectAny = (inputs: string[]) => matching(parseFilters(inputs));

function parseFailure(parse: () => unknown): string {
  let caught: unknown;
  try {
    parse();
  } catch (err) {
    caught = err;
  }
  expect(caught, "expected a parse error").toBeDefined();
  expect(isBerthError(caught)).toBe(true);
  if (!isBerthError(caught)) throw caught;
  expect(caught.errClass).toBe("InvalidArgument");
  expect(caught.message).toMatch(/^filters: parse error: \[/);
  return caught.message;
}
const failure = (input: string) => parseFailure(() => parseFilter(input));

describe("parseFilter: matching", () => {
  it("matches everything for the empty string", () => {
    expect(parseFilter("")).toBe(alwaysFilter);
    expect(select("")).toEqual(everything);
  });

  it("tests presence when there is no operator", () => {
    expect(select("name")).toEqual(everything);
    expect(select("kind")).toEqual([6, 7, 9]);
    expect(select("labels.tier")).toEqual([0, 2, 8]);
    expect(select("unknown")).toEqual([]);
  });

  it("requires every comma-separated selector to match", () => {
    expect(select("labels.tier,name")).toEqual([0, 2, 8]);
    expect(select("name==busybox,labels.arch")).toEqual([3]);
    expect(select("name==alpine,labels.tier==edge")).toEqual([2]);
    expect(select("name==alpine,labels.tier==wrong")).toEqual([]);
  });

  it("compares with ==", () => {
    expect(select("labels.tier==base")).toEqual([0]);
    expect(select("name==busybox")).toEqual([1, 3]);
    expect(select("name==busy")).toEqual([]);
  });

  it("takes punctuation, dots and slashes as part of an unquoted value", () => {
    expect(select("labels.tier==v1_x.y-z")).toEqual([8]);
    expect(select("kind==application/vnd.oci.image.manifest.v1+json")).toEqual([9]);
  });

  it("compares with !=, treating a missing field as empty", () => {
    expect(select("name!=busybox")).toEqual([0, 2, 4, 5, 6, 7, 8, 9]);
    expect(select("kind!=bca")).toEqual([0, 1, 2, 3, 4, 5, 6, 8, 9]);
    expect(select('kind!=""')).toEqual([6, 7, 9]);
  });

  it("requires presence for == even against the empty string", () => {
    expect(select('kind==""')).toEqual([]);
  });

  it("matches regular expressions with ~=, anywhere in the value", () => {
    expect(select("kind~=[abc]+,name!=redis")).toEqual([7, 9]);
    expect(select("name~=^redi")).toEqual([6, 7]);
    expect(select("name~=x$")).toEqual([1, 3, 7]);
    expect(select(String.raw`labels.tier~=^v\d_`)).toEqual([8]);
  });

  it("matches a missing field as the empty string with ~=", () => {
    expect(select("kind~=^$")).toEqual([0, 1, 2, 3, 4, 5, 8]);
  });

  it("accepts /.../ and |...| quoting for regular expressions, commas included", () => {
    expect(select("kind~=/[abc]{1,2}/,name!=redix")).toEqual([6, 9]);
    expect(select("kind~=|^application/vnd|")).toEqual([9]);
    expect(select(String.raw`kind~=/^application\/vnd/`)).toEqual([9]);
    expect(select('kind~="^cache, p"')).toEqual([6]);
    // valid, but nothing has `"/` in its kind
    expect(select(String.raw`kind~=/[abc]{0,1}"\//,name!=redis`)).toEqual([]);
  });

  it("understands a leading RE2 flag group and RE2-style punctuation escapes", () => {
    expect(select("name~=(?i)^ALPINE$")).toEqual([0, 2]);
    expect(select(String.raw`name~=^nginx\-proxy$`)).toEqual([4, 5]);
  });

  it("matches code points, not UTF-16 units, with .", () => {
    expect(select("labels.\"鯨\"~=^.$")).toEqual([9]);
  });

  it("accepts quoted values with commas, spaces and escapes", () => {
    expect(select('kind=="cache, persistent"')).toEqual([6]);
    expect(select(String.raw`kind=="cache,\x20persistent"`)).toEqual([6]);
    expect(select(String.raw`kind=="\u0062ca"`)).toEqual([7]);
  });

  it("accepts quoted fields containing dots, spaces and slashes", () => {
    expect(select('labels."a.b"==c')).toEqual([9]);
    expect(select('labels."ns/key"==v')).toEqual([9]);
    expect(select('name==alpine,labels."release notes"')).toEqual([2]);
    expect(select('labels."鯨"==🐳')).toEqual([9]);
  });

  it("decodes escapes in quoted fields, and continues the path after them", () => {
    expect(select(String.raw`labels."odd \\ \"key\""==set`)).toEqual([4]);
    expect(select(String.raw`labels."odd \\ \"key\"".suffix==set`)).toEqual([5]);
  });

  it("hands the adaptor the field path split on unquoted dots only", () => {
    const seen: string[][] = [];
    const filter = parseFilter('labels."a.b",labels.a.b,"x y".z');
    filter.match((path) => {
      seen.push([...path]);
      return "present";
    });
    expect(seen).toEqual([
      ["labels", "a.b"],
      ["labels", "a", "b"],
      ["x y", "z"],
    ]);
    // lookupLabel joins the rest of the path, so both spellings name the label "a.b"
    expect(select("labels.a.b==c")).toEqual([9]);
  });

  it("allows whitespace before fields, operators and values", () => {
    expect(select("name == alpine")).toEqual([0, 2]);
    expect(select("  name==alpine, labels.tier ==\tedge")).toEqual([2]);
    expect(select('kind== "bca"')).toEqual([7]);
  });

  it("stops evaluating at the first failing selector", () => {
    const asked: string[] = [];
    const filter = parseFilter("a==1,b==2,c==3");
    expect(
      filter.match((path) => {
        asked.push(path.join("."));
        return path[0] === "a" ? "1" : "nope";
      }),
    ).toBe(false);
    expect(asked).toEqual(["a", "b"]);
  });

  it("can be matched many times with the same result", () => {
    const filter = parseFilter("name~=^b,labels.arch");
    expect(matching(filter)).toEqual([3]);
    expect(matching(filter)).toEqual([3]);
  });

  it("remembers its source", () => {
    expect(parseFilter("name==x,labels.y").source).toBe("name==x,labels.y");
  });
});

describe("parseFilters: a list is OR", () => {
  it("matches everything for an empty list", () => {
    expect(parseFilters([])).toBe(alwaysFilter);
    expect(selectAny([])).toEqual(everything);
  });

  it("matches when any filter string matches", () => {
    expect(selectAny(["name==alpine", "name==redis"])).toEqual([0, 2, 6]);
    expect(selectAny(["name==busybox,labels.arch", "labels.tier==base"])).toEqual([0, 3]);
    expect(selectAny(["name==none", "kind==none"])).toEqual([]);
  });

  it("matches everything when one of the strings is empty", () => {
    expect(selectAny(["name==none", ""])).toEqual(everything);
  });

  it("returns a single filter unchanged, and joins sources otherwise", () => {
    expect(parseFilters(["name==a"]).source).toBe("name==a");
    expect(parseFilters(["name==a", "kind"]).source).toBe("name==a || kind");
  });

  it("fails when any filter string is malformed", () => {
    const message = parseFailure(() => parseFilters(["name==alpine", "name=="]));
    expect(message).toContain("expected value or quoted");
  });
});

describe("parseFilter: malformed input", () => {
  it("rejects a missing value", () => {
    expect(failure("name==")).toBe("filters: parse error: [name==]: expected value or quoted");
    expect(failure("image~=,id?=?fbaq")).toBe(
      "filters: parse error: [image~= >|,|< id?=?fbaq]: expected value or quoted",
    );
    expect(failure("name==.x")).toContain("expected value or quoted");
  });

  it("rejects a missing field path", () => {
    expect(failure("==x")).toBe("filters: parse error: [ >|=|< =x]: expected field or quoted");
    expect(failure(",name")).toContain("expected field or quoted");
    expect(failure("labels.")).toBe("filters: parse error: [labels.]: expected field or quoted");
    expect(failure("labels..x")).toContain("expected field or quoted");
  });

  it("rejects operators other than ==, != and ~=", () => {
    expect(failure("name=x")).toBe('filters: parse error: [name >|=|< x]: unsupported operator "="');
    expect(failure("name===x")).toContain('unsupported operator "==="');
    expect(failure("name=~x")).toContain('unsupported operator "=~"');
    expect(failure("name!x")).toContain('unsupported operator "!"');
  });

  it("rejects an unterminated quote", () => {
    expect(failure('labels."unterminated')).toBe(
      'filters: parse error: [labels. >|"|< unterminated]: quoted literal not terminated',
    );
    expect(failure('name=="open')).toContain("quoted literal not terminated");
    expect(failure("labels.key==/value")).toBe(
      "filters: parse error: [labels.key== >|/|< value]: quoted literal not terminated",
    );
    expect(failure("labels.ns/key==value")).toBe(
      "filters: parse error: [labels.ns >|/|< key==value]: quoted literal not terminated",
    );
  });

  it("rejects an invalid regular expression at parse time", () => {
    const message = failure("name~=(");
    expect(message).toMatch(/^filters: parse error: \[name~= >\|\(\|< \]: invalid regular expression "\(": /);
    expect(failure("name~=/[a-/")).toContain("invalid regular expression");
    expect(failure("name~=*x")).toContain("invalid regular expression");
  });

  it("rejects a trailing comma or doubled commas", () => {
    expect(failure("name==alpine,")).toBe("filters: parse error: [name==alpine,]: expected field or quoted");
    expect(failure("name==alpine,,kind")).toContain("expected field or quoted");
  });

  it("rejects stray characters", () => {
    expect(failure('labels.?"x"==y')).toBe('filters: parse error: [labels. >|?|< "x"==y]: expected field or quoted');
    expect(failure("name#")).toContain('expected an operator ("=="|"!="|"~=")');
    expect(failure("labels.foo-bar")).toContain("expected an operator");
    // identifiers are ASCII; anything else in a field path must be quoted
    expect(failure("labels.鯨==🐳")).toBe("filters: parse error: [labels. >|鯨|< ==🐳]: expected field or quoted");
    expect(failure("name==a b")).toBe("filters: parse error: [name==a >| |< b]: unexpected input:  ");
    expect(failure('name=="a"x')).toContain("unexpected input: x");
    expect(failure("name==a\u0000")).toContain("unexpected null");
  });

  it("rejects whitespace where containerd does", () => {
    expect(failure("   ")).toContain("expected field or quoted");
    expect(failure("name==alpine ")).toContain("unexpected input");
    expect(failure("name ,kind")).toContain("expected an operator");
    expect(failure("labels .tier")).toContain("expected an operator");
  });

  it("allows /.../ and |...| quoting only for ~= values", () => {
    expect(failure("labels.|foo|==x")).toBe("filters: parse error: [labels. >|||< foo|==x]: invalid quote encountered");
    expect(failure("name==/alpine/")).toContain("invalid quote encountered");
    expect(failure("name!=|alpine|")).toContain("invalid quote encountered");
  });

  it("rejects single quotes as field quoting, but keeps them literally in values", () => {
    expect(failure("labels.'tier'")).toContain("expected field or quoted");
    expect(select("name=='alpine'")).toEqual([]);
  });

  it("rejects bad escapes and escapes out of range", () => {
    expect(failure(String.raw`labels."\g"`)).toContain("illegal escape sequence");
    expect(failure(String.raw`labels."\xzz"`)).toContain("illegal numeric escape sequence");
    expect(failure(String.raw`labels."\777"`)).toBe(String.raw`filters: parse error: [labels. >|"|< \777"]: unquoting failed: quote syntax error`);
  });
});

describe("lookupLabel", () => {
  it("joins the rest of the path with dots", () => {
    expect(lookupLabel({ "a.b.c": "x" }, ["a", "b", "c"])).toBe("x");
    expect(lookupLabel({ "a.b.c": "x" }, ["a.b", "c"])).toBe("x");
    expect(lookupLabel({ a: "x" }, ["b"])).toBeUndefined();
  });

  it("distinguishes an empty label value from a missing label", () => {
    expect(lookupLabel({ empty: "" }, ["empty"])).toBe("");
    expect(lookupLabel(undefined, ["empty"])).toBeUndefined();
  });

  it("ignores inherited properties", () => {
    expect(lookupLabel({}, ["constructor"])).toBeUndefined();
    expect(lookupLabel({}, ["__proto__"])).toBeUndefined();
    const inherited = Object.create({ tier: "base" }) as Record<string, string>;
    expect(inherited["tier"]).toBe("base");
    expect(lookupLabel(inherited, ["tier"])).toBeUndefined();
    expect(select("labels.toString")).toEqual([]);
  });
});
