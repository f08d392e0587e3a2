import { describe, expect, it } from "vitest";
import { classOf } from "../errdefs/index.js";
import { DEEP_CHAIN_CASE, snapshotterConformance } from "./index.js";

describe("snapshotterConformance", () => {
  it("lists cases with unique ids and names, the deep chain the only optional one", () => {
    const cases = snapshotterConformance();
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    expect(cases.filter((c) => c.optional).map((c) => c.id)).toEqual([DEEP_CHAIN_CASE]);
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  it("leaves out an optional case only when asked by its id", () => {
    const all = snapshotterConformance();
    const without = snapshotterConformance({ skip: [DEEP_CHAIN_CASE] });
    expect(without.map((c) => c.id)).toEqual(all.map((c) => c.id).filter((id) => id !== DEEP_CHAIN_CASE));
  });

  it("refuses to skip a required case or one that does not exist", () => {
    const attempt = (id: string) => {
      try {
        snapshotterConformance({ skip: [id] });
      } catch (err) {
        return `${classOf(err)}: ${(err as Error).message}`;
      }
      return "accepted";
    };
    expect(attempt("usage")).toBe('InvalidArgument: snapshotter conformance: case "usage" is required and cannot be skipped');
    expect(attempt("no-such-case")).toBe('InvalidArgument: snapshotter conformance: no case "no-such-case" to skip');
  });
});
