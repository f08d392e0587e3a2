import { describe, expect, it } from "vitest";
import { readonlyMounts } from "../src/index.js";

describe("readonlyMounts", () => {
  it("turns a writable overlay into a read-only one without upper and work directories", () => {
    const [m] = readonlyMounts([
      { type: "overlay", source: "overlay", options: ["index=off", "workdir=/s/2/work", "upperdir=/s/2/fs", "lowerdir=/s/1/fs:/s/0/fs"] },
    ]);
    expect(m).toEqual({ type: "overlay", source: "overlay", options: ["index=off", "lowerdir=/s/2/fs:/s/1/fs:/s/0/fs", "ro"] });
  });

  it("keeps a lower-only overlay's layers and adds ro", () => {
    const [m] = readonlyMounts([{ type: "overlay", source: "overlay", options: ["lowerdir=/a:/b"] }]);
    expect(m?.options).toEqual(["lowerdir=/a:/b", "ro"]);
  });

  it("makes a bind mount ro instead of rw", () => {
    const [m] = readonlyMounts([{ type: "bind", source: "/s/1/fs", options: ["rbind", "rw"] }]);
    expect(m?.options).toEqual(["rbind", "ro"]);
  });
});
