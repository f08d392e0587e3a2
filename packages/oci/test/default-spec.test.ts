import { describe, expect, it } from "vitest";
import { classOf } from "@berth/core";
import { defaultSpec, generateSpec, OCI_VERSION, specToJSON } from "../src/index.js";
import { requireTool, run } from "./helpers.js";

/** What Debian's containerd (1.6.20) prints as its default spec, for `namespace`. */
async function containerdDefaultSpec(namespace: string): Promise<Record<string, unknown>> {
  await requireTool("ctr", "containerd");
  // `ctr oci spec` builds the spec in-process: no daemon needed. Its container has an empty id.
  const { stdout } = await run("ctr", ["-n", namespace, "oci", "spec"]);
  return JSON.parse(stdout) as Record<string, unknown>;
}

/**
 * containerd's 1.6 spec made like Berth's, each difference a deliberate one:
 * - ociVersion: containerd 1.6 vendors runtime-spec 1.0.2-dev; Berth declares the version its types follow.
 * - maskedPaths: containerd >= 1.7 also masks /sys/devices/virtual/powercap (CVE-2020-8694); Berth does.
 */
function asBerthExpects(spec: Record<string, unknown>): Record<string, unknown> {
  const linux = spec["linux"] as { maskedPaths: string[] };
  const masked = [...linux.maskedPaths];
  masked.splice(masked.indexOf("/sys/firmware") + 1, 0, "/sys/devices/virtual/powercap");
  return { ...spec, ociVersion: OCI_VERSION, linux: { ...linux, maskedPaths: masked } };
}

describe("defaultSpec", () => {
  for (const namespace of ["default", "berth-test"]) {
    it(`equals containerd's default spec field by field (namespace ${namespace})`, async () => {
      const theirs = asBerthExpects(await containerdDefaultSpec(namespace));
      const ours = JSON.parse(specToJSON(defaultSpec(namespace, ""))) as Record<string, unknown>;
      expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
      for (const field of Object.keys(theirs)) expect.soft(ours[field], field).toEqual(theirs[field]);
      const linux = ours["linux"] as Record<string, unknown>;
      const theirLinux = theirs["linux"] as Record<string, unknown>;
      for (const field of Object.keys(theirLinux)) expect.soft(linux[field], `linux.${field}`).toEqual(theirLinux[field]);
      expect(ours).toEqual(theirs);
    });
  }

  it("puts the container in the cgroup /<namespace>/<id>", () => {
    expect(defaultSpec("ns1", "web").linux?.cgroupsPath).toBe("/ns1/web");
  });

  it("requires a namespace, as containerd does", () => {
    expect(() => defaultSpec("", "x")).toThrow(/namespace/);
    try {
      defaultSpec("", "x");
    } catch (err) {
      expect(classOf(err)).toBe("InvalidArgument");
    }
  });

  it("returns a fresh spec each time (options mutate it)", async () => {
    const a = await generateSpec("default", "a");
    a.process?.capabilities?.bounding?.push("CAP_SYS_ADMIN");
    a.mounts?.[0]?.options?.push("ro");
    const b = await generateSpec("default", "b");
    expect(b.process?.capabilities?.bounding).not.toContain("CAP_SYS_ADMIN");
    expect(b.mounts?.[0]?.options).toEqual(["nosuid", "noexec", "nodev"]);
  });
});
