// Bundles on disk, with real mounts: deleting a bundle unmounts its rootfs before anything is
// removed, so a container's filesystem is never reached through it.
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { classOf } from "@berth/core";
import { createBundle, deleteBundle } from "../src/index.js";
import { exists, mountsBelow, removeDir, requireRoot, run } from "./harness.js";

const SPEC_TYPE = "types.containerd.io/opencontainers/runtime-spec/1/Spec";
const spec = (json: object) => ({ typeUrl: SPEC_TYPE, value: new TextEncoder().encode(JSON.stringify(json)) });

describe("bundles", () => {
  let dir: string;
  let dirs: { state: string; root: string };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-bundle-"));
    dirs = { state: join(dir, "state"), root: join(dir, "root") };
  });
  afterEach(() => removeDir(dir));

  it("holds config.json, a rootfs mount point and a link to its work directory", async () => {
    const b = await createBundle(dirs, "ns1", "c1", spec({ ociVersion: "1.0.2" }));
    expect(b.path).toBe(join(dirs.state, "ns1", "c1"));
    expect(JSON.parse(await readFile(join(b.path, "config.json"), "utf8"))).toEqual({ ociVersion: "1.0.2" });
    expect((await stat(join(b.path, "rootfs"))).isDirectory()).toBe(true);
    expect(await readlink(join(b.path, "work"))).toBe(join(dirs.root, "ns1", "c1"));
    expect((await stat(b.path)).mode & 0o777).toBe(0o700);
  });

  it("refuses a second bundle for the same task, and bad IDs", async () => {
    await createBundle(dirs, "ns1", "c1", undefined);
    expect(classOf(await createBundle(dirs, "ns1", "c1", undefined).catch((e: unknown) => e))).toBe("AlreadyExists");
    expect(classOf(await createBundle(dirs, "ns1", "../x", undefined).catch((e: unknown) => e))).toBe("InvalidArgument");
  });

  it("gives a remapped root's gid the bundle (user namespaces)", async () => {
    requireRoot();
    const b = await createBundle(dirs, "ns1", "c1", spec({ linux: { gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }] } }));
    const st = await stat(b.path);
    expect(st.gid).toBe(100000);
    expect(st.mode & 0o777).toBe(0o710);
  });

  it("delete unmounts everything on the rootfs first, then removes bundle and work directory", async () => {
    requireRoot();
    const b = await createBundle(dirs, "ns1", "c1", undefined);
    // Something the container must keep: a directory bind-mounted as its rootfs, with a mount inside.
    const keep = join(dir, "keep");
    await mkdir(join(keep, "inner"), { recursive: true });
    await writeFile(join(keep, "precious"), "data");
    await run("mount", ["--bind", keep, join(b.path, "rootfs")]);
    await run("mount", ["-t", "tmpfs", "tmpfs", join(b.path, "rootfs", "inner")]);
    await deleteBundle(b);
    expect(await mountsBelow(b.path)).toEqual([]);
    expect(await exists(b.path)).toBe(false);
    expect(await exists(join(dirs.root, "ns1", "c1"))).toBe(false);
    expect(await readFile(join(keep, "precious"), "utf8")).toBe("data");
    await deleteBundle(b); // idempotent
  });

  it("a failed create leaves nothing behind", async () => {
    // A spec that is not JSON is found out after the bundle directory was made.
    const bad = { typeUrl: SPEC_TYPE, value: new TextEncoder().encode("{not json") };
    expect(classOf(await createBundle(dirs, "ns1", "c1", bad).catch((e: unknown) => e))).toBe("InvalidArgument");
    expect(await exists(join(dirs.state, "ns1", "c1"))).toBe(false);
    await rm(join(dirs.state, "ns1"), { recursive: true, force: true });
    expect((await lstat(dirs.state)).isDirectory()).toBe(true);
  });
});
