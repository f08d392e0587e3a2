import { describe, expect, it } from "vitest";
import { MS_BIND, MS_NODEV, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC, MS_SHARED } from "@berth/native";
import { commonParentDirectory, parseMountInfo, parseMountOptions, shortenOverlayOptions } from "../src/index.js";

describe("parseMountOptions", () => {
  it("splits flags, propagation and data; later options win", () => {
    const parsed = parseMountOptions(["rbind", "ro", "nosuid", "rw", "nodev", "rprivate", "size=1m", "mode=0755"]);
    expect(parsed.flags).toBe(MS_BIND | MS_REC | MS_NOSUID | MS_NODEV);
    expect(parsed.propagation).toBe(MS_PRIVATE | MS_REC);
    expect(parsed.data).toEqual(["size=1m", "mode=0755"]);
    expect(parseMountOptions(["ro", "shared"])).toEqual({ flags: MS_RDONLY, propagation: MS_SHARED, data: [] });
  });
});

describe("overlay option shortening", () => {
  it("finds the common parent directory, never a path itself or /", () => {
    expect(commonParentDirectory(["/var/lib/s/1/fs", "/var/lib/s/2/fs", "/var/lib/s/10/work"])).toBe("/var/lib/s");
    expect(commonParentDirectory(["/var/lib/s/1/fs", "/var/lib/s/1/fs"])).toBe("/var/lib/s/1");
    expect(commonParentDirectory(["/a/x", "/b/y"])).toBeUndefined();
    expect(commonParentDirectory(["rel/x", "/b/y"])).toBeUndefined();
  });

  it("rewrites lowerdir, upperdir and workdir relative to it and keeps other options", () => {
    const out = shortenOverlayOptions(["index=off", "lowerdir=/s/snapshots/2/fs:/s/snapshots/1/fs", "upperdir=/s/snapshots/3/fs", "workdir=/s/snapshots/3/work"]);
    expect(out).toEqual({ cwd: "/s/snapshots", data: ["index=off", "lowerdir=2/fs:1/fs", "upperdir=3/fs", "workdir=3/work"] });
  });

  it("does not split a lowerdir on an escaped colon", () => {
    expect(shortenOverlayOptions(["lowerdir=/s/a\\:b/fs:/s/c/fs"])?.data).toEqual(["lowerdir=a\\:b/fs:c/fs"]);
  });
});

describe("parseMountInfo", () => {
  it("decodes octal escapes into raw bytes and reads optional fields", () => {
    const line = "36 35 98:0 /mnt1 /mnt/with\\040space\\011tab\\134 rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\n";
    const [info] = parseMountInfo(Buffer.from(line));
    expect(info?.mountPoint.toString()).toBe("/mnt/with space\ttab\\");
    expect(info?.optionalFields).toEqual(["master:1", "shared:2"]);
    expect(info?.fsType).toBe("ext3");
    expect(info?.source.toString()).toBe("/dev/root");
    expect(info?.options).toBe("rw,noatime");
  });
});
