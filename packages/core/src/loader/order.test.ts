import { describe, expect, it } from "vitest";
import { BerthError } from "../errdefs/index.js";
import { definePlugin, pluginUri, type PluginRegistration, type Requires } from "../plugin/define-plugin.js";
import { pluginType, type PluginType } from "../plugin/plugin-type.js";
import { orderPlugins } from "./order.js";

const TA = pluginType<string>("io.test.a.v1");
const TB = pluginType<string>("io.test.b.v1");
const TC = pluginType<string>("io.test.c.v1");
const TD = pluginType<string>("io.test.d.v1");
const TE = pluginType<string>("io.test.e.v1");
const Nobody = pluginType<string>("io.test.nobody.v1");

const plugin = (type: PluginType<string>, id: string, requires: Requires = []): PluginRegistration =>
  definePlugin({ type, id, requires, init: () => `${type.uri}.${id}` }) as PluginRegistration;

const uris = (regs: readonly PluginRegistration[]) => regs.map(pluginUri);

/** Asserts that every plugin comes after every plugin of each type it requires. */
function expectDependencyOrder(ordered: readonly PluginRegistration[]): void {
  const position = new Map(ordered.map((reg, i) => [reg, i]));
  for (const reg of ordered) {
    const at = position.get(reg)!;
    const deps =
      reg.requires === "*"
        ? ordered.filter((o) => o.requires !== "*")
        : ordered.filter((o) => o !== reg && (reg.requires as readonly PluginType<unknown>[]).some((t) => t.uri === o.type.uri));
    for (const dep of deps) {
      expect(position.get(dep), `${pluginUri(dep)} must come before ${pluginUri(reg)}`).toBeLessThan(at);
    }
  }
}

function caught(fn: () => unknown): BerthError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BerthError);
    return err as BerthError;
  }
  throw new Error("expected an error to be thrown");
}

/** mulberry32: a small seeded PRNG so shuffles are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe("orderPlugins", () => {
  it("orders a linear chain dependencies-first, whatever the input order", () => {
    const a = plugin(TA, "a", [TB]);
    const b = plugin(TB, "b", [TC]);
    const c = plugin(TC, "c", [TD]);
    const d = plugin(TD, "d");
    expect(uris(orderPlugins([a, b, c, d]))).toEqual([d, c, b, a].map(pluginUri));
    expect(uris(orderPlugins([d, a, c, b]))).toEqual([d, c, b, a].map(pluginUri));
  });

  it("orders a diamond: D before B and C, A last", () => {
    const a = plugin(TA, "top", [TB, TC]);
    const b = plugin(TB, "left", [TD]);
    const c = plugin(TC, "right", [TD]);
    const d = plugin(TD, "bottom");
    const ordered = orderPlugins([a, b, c, d]);
    expect(ordered).toHaveLength(4);
    expect(ordered[0]).toBe(d);
    expect(ordered[3]).toBe(a);
    expect(new Set(ordered.slice(1, 3))).toEqual(new Set([b, c]));
    expectDependencyOrder(ordered);
  });

  it("puts every plugin of a required type before the dependent", () => {
    const user = plugin(TA, "user", [TB]);
    const b1 = plugin(TB, "zz-last-by-name");
    const b2 = plugin(TB, "aa-first-by-name");
    const b3 = plugin(TB, "mm", [TC]);
    const c = plugin(TC, "c");
    const unrelated = plugin(TE, "e");
    const ordered = orderPlugins([user, b1, unrelated, b2, b3, c]);
    expect(ordered).toHaveLength(6);
    const at = (reg: PluginRegistration) => ordered.indexOf(reg);
    for (const b of [b1, b2, b3]) expect(at(b)).toBeLessThan(at(user));
    expect(at(c)).toBeLessThan(at(b3));
    expectDependencyOrder(ordered);
  });

  it("puts a wildcard plugin after every non-wildcard plugin", () => {
    // Named so that sorting by URI alone would put the wildcard plugins first.
    const star1 = plugin(pluginType<string>("io.aaa.v1"), "introspect", "*");
    const star2 = plugin(pluginType<string>("io.aab.v1"), "another", "*");
    const others = [plugin(TA, "a", [TB]), plugin(TB, "b"), plugin(TC, "c"), plugin(TD, "d", [TC]), plugin(TE, "e")];
    const ordered = orderPlugins([star1, ...others, star2]);
    expect(ordered).toHaveLength(7);
    const firstStar = Math.min(ordered.indexOf(star1), ordered.indexOf(star2));
    for (const other of others) expect(ordered.indexOf(other)).toBeLessThan(firstStar);
    expectDependencyOrder(ordered);
  });

  it("does not make two wildcard plugins depend on each other", () => {
    const star1 = plugin(TA, "one", "*");
    const star2 = plugin(TB, "two", "*");
    const plain = plugin(TC, "plain");
    // Two mutually-dependent wildcards would be a cycle; this must not throw.
    const ordered = orderPlugins([star2, plain, star1]);
    expect(ordered[0]).toBe(plain);
    expect(new Set(ordered.slice(1))).toEqual(new Set([star1, star2]));
    expect(uris(orderPlugins([star1, star2]))).toHaveLength(2);
  });

  it("rejects a two-plugin cycle with InvalidArgument naming both plugins", () => {
    const a = plugin(TA, "a", [TB]);
    const b = plugin(TB, "b", [TA]);
    const err = caught(() => orderPlugins([a, b]));
    expect(err.errClass).toBe("InvalidArgument");
    expect(err.message).toContain("cycle");
    expect(err.message).toContain(`${pluginUri(a)} → ${pluginUri(b)}`);
    expect(err.message).toContain(" → ");
  });

  it("rejects a three-plugin cycle naming every plugin in it, and not bystanders", () => {
    const a = plugin(TA, "a", [TB]);
    const b = plugin(TB, "b", [TC]);
    const c = plugin(TC, "c", [TA]);
    // A plugin that leads into the cycle but is not part of it.
    const bystander = plugin(TD, "0-enters-first", [TA]);
    for (const input of [
      [a, b, c],
      [c, b, a],
      [bystander, b, c, a],
    ]) {
      const err = caught(() => orderPlugins(input));
      expect(err.errClass).toBe("InvalidArgument");
      for (const reg of [a, b, c]) expect(err.message).toContain(pluginUri(reg));
      expect(err.message).not.toContain(pluginUri(bystander));
      // A closed chain of arrows: three edges between the four names (first repeated at the end).
      expect(err.message.split(" → ")).toHaveLength(4);
    }
  });

  it("rejects a wildcard plugin in a cycle with a plugin that requires its type", () => {
    const star = plugin(TA, "star", "*");
    const needsStar = plugin(TB, "b", [TA]);
    const err = caught(() => orderPlugins([star, needsStar]));
    expect(err.errClass).toBe("InvalidArgument");
    expect(err.message).toContain(pluginUri(star));
    expect(err.message).toContain(pluginUri(needsStar));
  });

  it("rejects the same type and id registered twice", () => {
    const err = caught(() => orderPlugins([plugin(TA, "x"), plugin(TB, "y"), plugin(TA, "x", [TB])]));
    expect(err.errClass).toBe("InvalidArgument");
    expect(err.message).toContain("io.test.a.v1.x");
  });

  it("allows the same id under different types", () => {
    expect(orderPlugins([plugin(TA, "x"), plugin(TB, "x")])).toHaveLength(2);
  });

  it("orders a plugin that requires a type nobody registered", () => {
    const lonely = plugin(TA, "lonely", [Nobody, TB]);
    const b = plugin(TB, "b");
    expect(orderPlugins([lonely, b])).toEqual([b, lonely]);
    expect(orderPlugins([plugin(TC, "only", [Nobody])]).map(pluginUri)).toEqual(["io.test.c.v1.only"]);
  });

  it("ignores a plugin's requirement of its own type for itself", () => {
    const self = plugin(TA, "self", [TA]);
    const sibling = plugin(TA, "sibling");
    expect(orderPlugins([self, sibling])).toEqual([sibling, self]);
  });

  it("returns an empty list for no plugins and does not mutate its input", () => {
    expect(orderPlugins([])).toEqual([]);
    const input = [plugin(TA, "a", [TB]), plugin(TB, "b")];
    const copy = [...input];
    orderPlugins(input);
    expect(input).toEqual(copy);
  });

  it("gives the same order for every permutation of its input", () => {
    const graph = [
      plugin(TA, "api", [TB, TC]),
      plugin(TB, "b1", [TD]),
      plugin(TB, "b2"),
      plugin(TC, "c1", [TD, Nobody]),
      plugin(TC, "c2", [TB]),
      plugin(TD, "d1"),
      plugin(TD, "d2"),
      plugin(TE, "e1"),
      plugin(TE, "e2", [TA]),
      plugin(pluginType<string>("io.test.zstar.v1"), "z", "*"),
      plugin(pluginType<string>("io.test.0star.v1"), "z", "*"),
    ];
    const reference = uris(orderPlugins(graph));
    expectDependencyOrder(orderPlugins(graph));
    const random = prng(0xc0ffee);
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const input = shuffle(graph, random);
      seen.add(uris(input).join(","));
      expect(uris(orderPlugins(input))).toEqual(reference);
    }
    // The shuffles really did vary the input.
    expect(seen.size).toBeGreaterThan(250);
  });
});
