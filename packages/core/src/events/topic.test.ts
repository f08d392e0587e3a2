import { describe, expect, it } from "vitest";
import { BerthError } from "../errdefs/index.js";
import { validateTopic } from "./topic.js";

describe("validateTopic", () => {
  it.each(["/tasks/exit", "/images/create", "/a", "/containers/update", "/snapshot/prepare.v1", "/a-b/c_d/e.f"])("accepts %j", (topic) => {
    expect(() => validateTopic(topic)).not.toThrow();
  });

  it.each(["", "tasks", "tasks/exit", "/", "/a//b", "/a b", "/tasks/", "//tasks", "/tasks/-exit", "/täsks"])(
    "rejects %j with InvalidArgument",
    (topic) => {
      let caught: unknown;
      try {
        validateTopic(topic);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(BerthError);
      expect((caught as BerthError).errClass).toBe("InvalidArgument");
    },
  );

  // containerd's exchange validates each component with identifiers.Validate, which also
  // enforces its 76-character maximum (core/events/exchange/exchange.go, pkg/identifiers).
  it("accepts a component of exactly 76 characters", () => {
    expect(() => validateTopic(`/${"a".repeat(76)}`)).not.toThrow();
    expect(() => validateTopic(`/tasks/${"b".repeat(76)}`)).not.toThrow();
  });

  it("rejects a component longer than 76 characters with InvalidArgument, as containerd does", () => {
    for (const topic of [`/${"a".repeat(77)}`, `/tasks/${"b".repeat(77)}`]) {
      let caught: unknown;
      try {
        validateTopic(topic);
      } catch (err) {
        caught = err;
      }
      expect(caught, `validateTopic(${JSON.stringify(topic)}) should throw`).toBeInstanceOf(BerthError);
      expect((caught as BerthError).errClass).toBe("InvalidArgument");
    }
  });

  it("names the bad topic in its message", () => {
    expect(() => validateTopic("/a b")).toThrow(/\/a b/);
    expect(() => validateTopic("/a//b")).toThrow(/\/a\/\/b/);
  });
});
