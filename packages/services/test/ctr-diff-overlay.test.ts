// The diff service end to end: Debian's ctr computes a layer from overlay snapshots
// (`ctr snapshots diff`, the walking differ's Compare through the Diff service), and the same
// layer applied through Diff.Apply onto a fresh snapshot gives the same tree back.
import { createHash } from "node:crypto";
import { lstat, mkdir, mkdtemp, readFile, readlink, readdir, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffApi, snapshotsApi } from "@berth/api";
import { createClient, type BerthClient } from "@berth/client";
import { defaultServerConfig, silentLogger } from "@berth/core";
import { startDaemon, type Daemon } from "@berth/daemon";
import { eventsGrpcPlugin, exchangePlugin } from "@berth/events";
import { servicePlugins } from "../src/index.js";
import { exportedPlugin, mountsBelow } from "./ctr-snapshots-scenario.js";
import { exec, requireRoot, requireTool } from "./helpers.js";

const GZIP_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";

/** path → "dir" | "file:<sha256>" | "link:<target>", for comparing trees. */
async function manifest(root: string, rel = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(join(root, rel))).sort()) {
    const path = join(rel, name);
    const st = await lstat(join(root, path));
    if (st.isDirectory()) Object.assign(out, { [path]: "dir" }, await manifest(root, path));
    else if (st.isSymbolicLink()) out[path] = `link:${await readlink(join(root, path))}`;
    else out[path] = `file:${createHash("sha256").update(await readFile(join(root, path))).digest("hex")}`;
  }
  return out;
}

describe("ctr snapshots diff and Diff.Apply over overlayfs with the walking differ", () => {
  let dir: string;
  let daemon: Daemon | undefined;
  let client: BerthClient | undefined;
  let next = 0;
  const ctr = (...args: string[]) => exec("ctr", ["-a", daemon!.address, "snapshots", "--snapshotter", "overlayfs", ...args], { maxBuffer: 64 << 20 });

  async function mounted<T>(key: string, fn: (dir: string) => Promise<T>): Promise<T> {
    const target = join(dir, "mnt", String(next++));
    await mkdir(target, { recursive: true });
    const { stdout } = await ctr("mounts", target, key);
    for (const line of stdout.trim().split("\n")) await exec("bash", ["-c", line]);
    try {
      return await fn(target);
    } finally {
      await exec("umount", ["-R", target]);
    }
  }

  beforeAll(async () => {
    requireRoot();
    await requireTool("ctr", "containerd");
    await requireTool("tar", "tar");
    const plugins = [
      await exportedPlugin("@berth/content-local", "io.containerd.content.v1"),
      await exportedPlugin("@berth/metadata-lmdb", "io.containerd.metadata.v1"),
      await exportedPlugin("@berth/snapshot-overlay", "io.containerd.snapshotter.v1"),
      await exportedPlugin("@berth/differ", "io.containerd.differ.v1"),
    ];
    dir = await mkdtemp(join(tmpdir(), "berth-ctr-diff-"));
    const config = defaultServerConfig();
    config.root = join(dir, "root");
    config.state = join(dir, "state");
    config.grpc.address = join(dir, "berthd.sock");
    daemon = await startDaemon({ plugins: [...plugins, exchangePlugin, eventsGrpcPlugin, ...servicePlugins], config, log: silentLogger });
    client = createClient({ address: daemon.address, namespace: "default", timeoutMs: 60_000 });
  }, 120_000);

  afterAll(async () => {
    if (dir) for (const target of await mountsBelow(join(dir, "mnt"))) await exec("umount", ["-R", target]).catch(() => undefined);
    client?.close();
    await daemon?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it("ctr plugins ls shows the diff service and the walking differ as ok", async () => {
    const { stdout } = await exec("ctr", ["-a", daemon!.address, "plugins", "ls"]);
    expect(stdout).toMatch(/io\.containerd\.grpc\.v1\s+diff\s+-\s+ok/);
    expect(stdout).toMatch(/io\.containerd\.differ\.v1\s+walking\s+.*\s+ok/);
  });

  it("a layer computed by ctr snapshots diff, applied to the parent, rebuilds the child's tree", async () => {
    await ctr("prepare", "base-active");
    await mounted("base-active", async (root) => {
      await mkdir(join(root, "etc"));
      await writeFile(join(root, "etc", "config"), "v1\n");
      await writeFile(join(root, "doomed"), "bye\n");
      await symlink("etc/config", join(root, "link"));
    });
    await ctr("commit", "base", "base-active");
    await ctr("prepare", "child", "base");
    const expected = await mounted("child", async (root) => {
      await writeFile(join(root, "etc", "config"), "v2\n");
      await unlink(join(root, "doomed"));
      await writeFile(join(root, "new"), "hello\n");
      return manifest(root);
    });

    // ctr diff <key>: Compare of the parent's view and the key's mounts, printed from content.
    const { stdout: layer } = await exec("ctr", ["-a", daemon!.address, "snapshots", "--snapshotter", "overlayfs", "diff", "child"], {
      encoding: "buffer",
      maxBuffer: 64 << 20,
    });
    const file = join(dir, "layer.tar.gz");
    await writeFile(file, layer);
    const { stdout: listing } = await exec("tar", ["-tzf", file]);
    expect(listing.split("\n")).toEqual(expect.arrayContaining(["etc/config", ".wh.doomed", "new"]));
    expect(listing).not.toMatch(/^link$/m);

    // The same bytes are in content: apply them to a fresh snapshot of the parent.
    const digest = `sha256:${createHash("sha256").update(layer).digest("hex")}`;
    const { mounts } = await client!.service(snapshotsApi.Snapshots).prepare({ snapshotter: "overlayfs", key: "applied-active", parent: "base" });
    const { applied } = await client!.service(diffApi.Diff).apply({ diff: { mediaType: GZIP_LAYER, digest, size: BigInt(layer.length) }, mounts });
    expect(applied?.mediaType).toBe("application/vnd.oci.image.layer.v1.tar");
    expect(applied?.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    await ctr("commit", "applied", "applied-active");
    await ctr("view", "applied-view", "applied");
    expect(await mounted("applied-view", (root) => manifest(root))).toEqual(expected);
    expect(await mountsBelow(join(dir, "mnt"))).toEqual([]);
  });
});
