import { describe, expect, it } from "vitest";
import { classOf } from "@berth/core";
import { familiarName, normalizeReference, parseReference } from "../src/index.js";

const D = "sha256:" + "a".repeat(64);

describe("reference normalisation (docker's rules)", () => {
  it.each([
    ["busybox", "docker.io/library/busybox:latest"],
    ["busybox:1.36", "docker.io/library/busybox:1.36"],
    ["library/busybox", "docker.io/library/busybox:latest"],
    ["docker.io/busybox", "docker.io/library/busybox:latest"],
    ["index.docker.io/library/busybox", "docker.io/library/busybox:latest"],
    ["user/app", "docker.io/user/app:latest"],
    ["127.0.0.1:5000/tiny", "127.0.0.1:5000/tiny:latest"],
    ["127.0.0.1:5000/tiny:v1", "127.0.0.1:5000/tiny:v1"],
    ["localhost/app", "localhost/app:latest"],
    ["localhost:5000/a/b/c:x", "localhost:5000/a/b/c:x"],
    ["ghcr.io/org/app", "ghcr.io/org/app:latest"],
    ["[::1]:5000/app", "[::1]:5000/app:latest"],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    [`busybox:1.36@${D}`, `docker.io/library/busybox:1.36@${D}`],
    [`127.0.0.1:5000/tiny@${D}`, `127.0.0.1:5000/tiny@${D}`],
    ["h.io/a.b-c__d/e-f.g_h:T.a-g_1", "h.io/a.b-c__d/e-f.g_h:T.a-g_1"],
  ])("%s → %s", (input, expected) => {
    expect(normalizeReference(input)).toBe(expected);
  });

  it("splits domain, path, tag and digest", () => {
    expect(parseReference(`127.0.0.1:5000/a/b:t@${D}`)).toEqual({ domain: "127.0.0.1:5000", path: "a/b", tag: "t", digest: D });
    expect(parseReference("busybox", { defaultTag: false })).toEqual({ domain: "docker.io", path: "library/busybox", tag: undefined, digest: undefined });
  });

  it("shows familiar names as docker does", () => {
    expect(familiarName(parseReference("busybox"))).toBe("busybox:latest");
    expect(familiarName(parseReference("user/app:1"))).toBe("user/app:1");
    expect(familiarName(parseReference("127.0.0.1:5000/tiny"))).toBe("127.0.0.1:5000/tiny:latest");
  });

  it.each([
    ["", /empty/],
    ["https://docker.io/busybox", /no scheme/],
    ["Busybox", /must be lowercase/],
    ["docker.io/Library/busybox", /must be lowercase/],
    ["busybox:", /tag/],
    ["busybox:bad tag", /tag/],
    [`busybox:${"x".repeat(129)}`, /tag/],
    ["busybox@sha256:abc", /sha256 needs 64/],
    [`busybox@sha256:${"A".repeat(64)}`, /lowercase hex/],
    [`busybox@md5:${"a".repeat(32)}`, /unsupported algorithm/],
    ["a".repeat(64), /64-character hexadecimal/],
    ["host:5000/", /empty|path component/],
    ["repo//x", /path component/],
    ["repo/-x", /path component/],
    ["bad_host:5000/x", /not a valid registry host/],
    [`h.io/${"a".repeat(260)}`, /longer than 255/],
  ])("rejects %j with InvalidArgument", (input, message) => {
    let error: unknown;
    try {
      parseReference(input);
    } catch (err) {
      error = err;
    }
    expect(classOf(error)).toBe("InvalidArgument");
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(`"${input}"`);
  });
});
