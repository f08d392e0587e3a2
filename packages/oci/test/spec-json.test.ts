import { describe, expect, it } from "vitest";
import { classOf } from "@berth/core";
import { generateSpec, parseSpec, specToJSON, withMaskedPaths, withNewPrivileges, withRlimit, withSeccompProfile } from "../src/index.js";

describe("config.json text", () => {
  it("leaves out what Go's omitempty would, keeps what the spec requires", async () => {
    const spec = await generateSpec("ns", "c", withNewPrivileges, withMaskedPaths([]));
    spec.annotations = {};
    spec.hostname = "";
    const json = JSON.parse(specToJSON(spec)) as { process: Record<string, unknown>; linux: Record<string, unknown> };
    expect(json.process).not.toHaveProperty("noNewPrivileges");
    expect(json.linux).not.toHaveProperty("maskedPaths");
    expect(json).not.toHaveProperty("annotations");
    expect(json).not.toHaveProperty("hostname");
    expect(json.linux["resources"]).toEqual({ devices: [{ allow: false, access: "rwm" }] }); // allow: false stays
    expect(json.process["user"]).toEqual({ uid: 0, gid: 0 });
  });

  it("writes and reads 64-bit values exactly", async () => {
    const unlimited = 18446744073709551615n;
    const spec = await generateSpec(
      "ns",
      "c",
      withRlimit({ type: "RLIMIT_MEMLOCK", soft: unlimited, hard: unlimited }),
      withSeccompProfile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["x"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, value: 0xffffffffffffn, valueTwo: 0x7fffffffffffffffn, op: "SCMP_CMP_MASKED_EQ" }] }] }),
    );
    const text = specToJSON(spec);
    expect(text).toContain('"hard":18446744073709551615');
    expect(text).toContain('"valueTwo":9223372036854775807');
    const back = parseSpec(text);
    expect(back.process?.rlimits?.[1]).toEqual({ type: "RLIMIT_MEMLOCK", soft: unlimited, hard: unlimited });
    expect(back.linux?.seccomp?.syscalls?.[0]?.args?.[0]?.value).toBe(0xffffffffffff); // safe: stays a number
    expect(back.linux?.seccomp?.syscalls?.[0]?.args?.[0]?.valueTwo).toBe(0x7fffffffffffffffn);
    expect(back.process?.rlimits?.[0]).toEqual({ type: "RLIMIT_NOFILE", soft: 1024, hard: 1024 });
  });

  it("refuses text that is not a runtime spec", () => {
    try {
      parseSpec('{"process":{}}');
      expect.unreachable();
    } catch (err) {
      expect(classOf(err)).toBe("InvalidArgument");
    }
  });
});
