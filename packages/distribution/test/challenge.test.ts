import { describe, expect, it } from "vitest";
import { parseChallenges } from "../src/index.js";

describe("WWW-Authenticate parsing", () => {
  it("reads a registry's bearer challenge", () => {
    expect(
      parseChallenges(['Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push",error="insufficient_scope"']),
    ).toEqual([
      {
        scheme: "bearer",
        params: { realm: "https://auth.example/token", service: "registry.example", scope: "repository:a/b:pull,push", error: "insufficient_scope" },
      },
    ]);
  });

  it("reads several challenges in one header and several headers, bearer first", () => {
    expect(parseChallenges(['Basic realm="r1", Negotiate', 'bearer REALM=x, Service="s \\"q\\""'])).toEqual([
      { scheme: "bearer", params: { realm: "x", service: 's "q"' } },
      { scheme: "basic", params: { realm: "r1" } },
      { scheme: "negotiate", params: {} },
    ]);
  });

  it("survives junk", () => {
    expect(parseChallenges(["", "  ,, ", '"quoted']).length).toBe(0);
    expect(parseChallenges(["Negotiate abc=="])[0]!.scheme).toBe("negotiate");
  });
});
