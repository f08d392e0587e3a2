import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { classOf } from "@berth/core";
import { ShimResolver, shimBinaryName } from "../src/index.js";

describe("shimBinaryName", () => {
  it("names the binary after the runtime name's last two parts, as containerd does", () => {
    expect(shimBinaryName("io.containerd.runc.v2")).toBe("containerd-shim-runc-v2");
    expect(shimBinaryName("io.containerd.berth.v2")).toBe("containerd-shim-berth-v2");
    expect(shimBinaryName("runc")).toBeUndefined();
  });
});

describe("ShimResolver", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-resolve-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function shim(where: string, name: string): Promise<string> {
    await mkdir(where, { recursive: true });
    const path = join(where, name);
    await writeFile(path, "#!/bin/sh\n");
    await chmod(path, 0o755);
    return path;
  }

  it("searches the path in order, then beside the daemon", async () => {
    const first = await shim(join(dir, "a"), "containerd-shim-x-v2");
    await shim(join(dir, "b"), "containerd-shim-x-v2");
    const beside = await shim(join(dir, "daemon"), "containerd-shim-y-v2");
    const resolver = new ShimResolver({ searchPath: [join(dir, "a"), join(dir, "b")], besideDaemon: join(dir, "daemon") });
    expect(await resolver.resolve("io.containerd.x.v2")).toBe(first);
    expect(await resolver.resolve("io.containerd.y.v2")).toBe(beside);
  });

  it("skips files that are not executable, and relative path entries", async () => {
    await mkdir(join(dir, "a"));
    await writeFile(join(dir, "a", "containerd-shim-x-v2"), "not executable");
    const good = await shim(join(dir, "b"), "containerd-shim-x-v2");
    const resolver = new ShimResolver({ searchPath: ["relative", join(dir, "a"), join(dir, "b")] });
    expect(await resolver.resolve("io.containerd.x.v2")).toBe(good);
  });

  it("takes an absolute path as the shim itself; NotFound if it is missing", async () => {
    const path = await shim(dir, "my-shim");
    const resolver = new ShimResolver({ searchPath: [] });
    expect(await resolver.resolve(path)).toBe(path);
    expect(classOf(await resolver.resolve(join(dir, "missing")).catch((e: unknown) => e))).toBe("NotFound");
  });

  it("refuses names that are neither a runtime name nor an absolute path", async () => {
    const resolver = new ShimResolver({ searchPath: [dir] });
    for (const bad of ["", "runc", "bin/containerd-shim-runc-v2"]) {
      expect(classOf(await resolver.resolve(bad).catch((e: unknown) => e)), bad).toBe("InvalidArgument");
    }
    expect(classOf(await resolver.resolve("io.containerd.absent.v9").catch((e: unknown) => e))).toBe("NotFound");
  });
});
