import { readFile, stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createNetns, isPinnedNetns, removeNetns } from "../src/index.js";
import { requireRoot, run, tempDir } from "./helpers.js";

describe("network namespaces", () => {
  beforeAll(() => requireRoot());

  it("creates a pinned, empty namespace named cni-<uuid>, and removes it", async () => {
    const dir = await tempDir();
    const ns = await createNetns(join(dir, "netns"));
    try {
      expect(basename(ns.path)).toMatch(/^cni-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(await isPinnedNetns(ns.path)).toBe(true);
      const mounts = await readFile("/proc/self/mountinfo", "utf8");
      expect(mounts).toContain(` ${ns.path} `);

      // A namespace of its own: only lo, and not the host's namespace.
      const { stdout } = await run("nsenter", [`--net=${ns.path}`, "ip", "-o", "link", "show"]);
      expect(stdout.trim().split("\n").map((l) => l.split(":")[1]?.trim())).toEqual(["lo"]);
      const [{ ino: nsIno }, { ino: hostIno }] = await Promise.all([stat(ns.path), stat("/proc/self/ns/net")]);
      expect(nsIno).not.toBe(hostIno);
    } finally {
      await removeNetns(ns.path);
    }
    expect(await isPinnedNetns(ns.path)).toBe(false);
    await expect(stat(ns.path)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await readFile("/proc/self/mountinfo", "utf8")).not.toContain(ns.path);
  });

  it("removal is idempotent: a gone path and an unpinned file are fine", async () => {
    const dir = await tempDir();
    const ns = await createNetns(dir);
    await removeNetns(ns.path);
    await removeNetns(ns.path);
    const plain = join(dir, "cni-plain");
    await writeFile(plain, "");
    expect(await isPinnedNetns(plain)).toBe(false);
    await removeNetns(plain);
    await expect(stat(plain)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("gives every namespace its own name and identity", async () => {
    const dir = await tempDir();
    const [a, b] = await Promise.all([createNetns(dir), createNetns(dir)]);
    try {
      expect(a.path).not.toBe(b.path);
      expect((await stat(a.path)).ino).not.toBe((await stat(b.path)).ino);
    } finally {
      await Promise.all([removeNetns(a.path), removeNetns(b.path)]);
    }
  });
});
