import { describe, expect, it } from "vitest";
import { generateSpec, mergeEnv, withEnv, withTTY } from "../src/index.js";

describe("mergeEnv (containerd's replace-or-append by name)", () => {
  it("replaces by name in place and appends new names", () => {
    expect(mergeEnv(["PATH=/bin", "A=1", "B=2"], ["A=x", "C=3"])).toEqual(["PATH=/bin", "A=x", "B=2", "C=3"]);
  });

  it("a bare name unsets the variable; setting it again puts it back where it was", () => {
    expect(mergeEnv(["A=1", "B=2", "C=3"], ["B"])).toEqual(["A=1", "C=3"]);
    expect(mergeEnv(["A=1", "B=2", "C=3"], ["B", "B=again"])).toEqual(["A=1", "B=again", "C=3"]);
    expect(mergeEnv(["A=1"], ["UNKNOWN"])).toEqual(["A=1"]);
  });

  it("keeps values containing '=' and empty values", () => {
    expect(mergeEnv(["OPTS=a=b"], ["OPTS=c=d", "EMPTY="])).toEqual(["OPTS=c=d", "EMPTY="]);
  });

  it("keeps one entry per name when the overrides repeat one (containerd would keep both)", () => {
    expect(mergeEnv([], ["A=1", "A=2"])).toEqual(["A=2"]);
  });

  it("does not touch its inputs", () => {
    const base = ["A=1"];
    mergeEnv(base, ["A=2"]);
    expect(base).toEqual(["A=1"]);
  });
});

describe("withEnv and withTTY", () => {
  it("merge into the spec's environment; a TTY adds TERM", async () => {
    const spec = await generateSpec("ns", "c", withEnv(["A=1", "B=2"]), withEnv(["A=3"]), withTTY);
    expect(spec.process?.env).toEqual(["A=3", "B=2", "TERM=xterm"]);
    expect(spec.process?.terminal).toBe(true);
  });

  it("an empty list changes nothing", async () => {
    const spec = await generateSpec("ns", "c", withEnv([]));
    expect(spec.process?.env).toBeUndefined();
  });
});
