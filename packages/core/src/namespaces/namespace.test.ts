import { describe, expect, it } from "vitest";
import { BerthError } from "../errdefs/index.js";
import { requireNamespace, validateIdentifier } from "./namespace.js";

function errorOf(fn: () => unknown): BerthError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BerthError);
    return err as BerthError;
  }
  throw new Error("expected an error");
}

describe("validateIdentifier", () => {
  it.each(["default", "k8s.io", "a-b_c.d", "a", "0", "moby", "A1.b2-C3_d4", "x".repeat(76), `${"a".repeat(37)}.${"b".repeat(38)}`])(
    "accepts %j",
    (name) => {
      expect(() => validateIdentifier(name)).not.toThrow();
    },
  );

  it.each([
    "",
    "x".repeat(77),
    "-a",
    "a-",
    "a..b",
    "a/b",
    "ÄB",
    ".a",
    "a.",
    "a-.b",
    "a b",
    " a",
    "a\n",
    "a:b",
    "_",
  ])("rejects %j with InvalidArgument", (name) => {
    const err = errorOf(() => validateIdentifier(name));
    expect(err.errClass).toBe("InvalidArgument");
  });

  it("says why a name is too long", () => {
    const err = errorOf(() => validateIdentifier("y".repeat(77)));
    expect(err.message).toContain("76");
  });
});

describe("requireNamespace", () => {
  it("returns the namespace when there is one", () => {
    expect(requireNamespace({ namespace: "k8s.io" })).toBe("k8s.io");
    expect(requireNamespace({ namespace: "default" })).toBe("default");
  });

  it("throws FailedPrecondition when the caller sent none", () => {
    const err = errorOf(() => requireNamespace({ namespace: undefined }));
    expect(err.errClass).toBe("FailedPrecondition");
    expect(err.message).toContain("namespace");
  });
});
