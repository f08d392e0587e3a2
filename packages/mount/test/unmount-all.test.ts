import { closeSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { classOf } from "@berth/core";
import { mountAll, unmountAll } from "../src/index.js";
import { mountsUnder, rejection, requireRoot, tempDir } from "./helpers.js";

beforeAll(requireRoot);

const tmpfs = (target = "") => ({ type: "tmpfs", source: "tmpfs", target, options: ["size=1m"] });

describe("unmountAll", () => {
  it("unmounts nested and stacked mounts, deepest and topmost first, in a path with a space", async () => {
    const base = await tempDir();
    const target = join(base, "with space");
    mkdirSync(target);
    await mountAll([tmpfs(), tmpfs()], target); // two on the same path
    mkdirSync(join(target, "a"));
    await mountAll([tmpfs("a")], target);
    mkdirSync(join(target, "a", "b\tc"));
    const src = join(base, "src");
    mkdirSync(src);
    await mountAll([{ type: "bind", source: src, target: "a/b\tc", options: ["bind"] }], target);
    expect(await mountsUnder(target)).toHaveLength(4);

    await unmountAll(target);
    expect(await mountsUnder(target)).toEqual([]);
  });

  it("reaches a mount hidden under a later mount on its parent path", async () => {
    const base = await tempDir();
    mkdirSync(join(base, "a", "b"), { recursive: true });
    await mountAll([tmpfs("a/b"), tmpfs("a")], base);
    expect(await mountsUnder(base)).toHaveLength(2);
    await unmountAll(base);
    expect(await mountsUnder(base)).toEqual([]);
  });

  it("is idempotent and accepts a target that does not exist", async () => {
    const base = await tempDir();
    await unmountAll(base);
    await unmountAll(join(base, "missing"));
  });

  it("leaves mounts beside the target alone", async () => {
    const base = await tempDir();
    mkdirSync(join(base, "a"));
    mkdirSync(join(base, "ab"));
    await mountAll([tmpfs()], join(base, "a"));
    await mountAll([tmpfs()], join(base, "ab"));
    await unmountAll(join(base, "a"));
    expect((await mountsUnder(base)).map((m) => m.mountPoint.toString())).toEqual([join(base, "ab")]);
  });

  it("fails as FailedPrecondition on a busy mount, or detaches it when asked", async () => {
    const base = await tempDir();
    await mountAll([tmpfs()], base);
    writeFileSync(join(base, "open"), "x");
    const fd = openSync(join(base, "open"), "r");
    try {
      const err = await rejection(unmountAll(base));
      expect(classOf(err)).toBe("FailedPrecondition");
      expect(err.message).toContain("EBUSY");
      await unmountAll(base, { detachOnBusy: true });
      expect(await mountsUnder(base)).toEqual([]);
    } finally {
      closeSync(fd);
    }
  });
});
