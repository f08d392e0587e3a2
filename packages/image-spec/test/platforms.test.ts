import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { chainIds, childGcLabels, formatPlatform, parsePlatform, platformMatches, topChainId } from "../src/index.js";

describe("platforms", () => {
  it("normalise as containerd does", () => {
    expect(formatPlatform(parsePlatform("linux/aarch64"))).toBe("linux/arm64/v8");
    expect(formatPlatform(parsePlatform("linux/arm64/8"))).toBe("linux/arm64/v8");
    expect(formatPlatform(parsePlatform("linux/x86_64"))).toBe("linux/amd64");
    expect(formatPlatform(parsePlatform("linux/armhf"))).toBe("linux/arm/v7");
    expect(formatPlatform(parsePlatform("linux/arm"))).toBe("linux/arm/v7");
    expect(formatPlatform(parsePlatform("arm64"))).toBe("linux/arm64/v8");
    expect(() => parsePlatform("linux/amd64/v1/x")).toThrow(/invalid platform/);
    expect(() => parsePlatform("linux//amd64")).toThrow(/invalid platform/);
  });

  it("match by os, architecture and variant; arm hosts run older arm variants", () => {
    expect(platformMatches(parsePlatform("linux/arm64"), { os: "linux", architecture: "arm64" })).toBe(true);
    expect(platformMatches(parsePlatform("linux/amd64"), { os: "linux", architecture: "arm64", variant: "v8" })).toBe(false);
    expect(platformMatches(parsePlatform("linux/arm/v7"), { os: "linux", architecture: "arm", variant: "v6" })).toBe(true);
    expect(platformMatches(parsePlatform("linux/arm/v6"), { os: "linux", architecture: "arm", variant: "v7" })).toBe(false);
    expect(platformMatches(parsePlatform("linux/amd64"), { os: "windows", architecture: "amd64" })).toBe(false);
  });
});

describe("chain IDs and GC labels", () => {
  it("chain each diff ID onto the previous chain ID", () => {
    const a = `sha256:${"a".repeat(64)}`;
    const b = `sha256:${"b".repeat(64)}`;
    const ab = `sha256:${createHash("sha256").update(`${a} ${b}`).digest("hex")}`;
    expect(chainIds([a, b])).toEqual([a, ab]);
    expect(chainIds([])).toEqual([]);
    expect(topChainId([a, b])).toBe(ab);
    expect(topChainId([])).toBeUndefined();
  });

  it("number manifests and layers, name the config once", () => {
    const d = (mediaType: string, n: number) => ({ mediaType, digest: `sha256:${String(n).repeat(64)}`, size: 1 });
    expect(
      childGcLabels([
        d("application/vnd.oci.image.config.v1+json", 1),
        d("application/vnd.oci.image.layer.v1.tar+gzip", 2),
        d("application/vnd.docker.image.rootfs.diff.tar.gzip", 3),
      ]),
    ).toEqual({
      "containerd.io/gc.ref.content.config": d("", 1).digest,
      "containerd.io/gc.ref.content.l.0": d("", 2).digest,
      "containerd.io/gc.ref.content.l.1": d("", 3).digest,
    });
  });
});
