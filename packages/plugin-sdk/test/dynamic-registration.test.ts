// A proxy snapshotter joins a running berthd through `berth plugins register` (Berth's
// ProxyPlugins service): `ctr plugins ls` lists it at once and ctr pulls and runs on it without
// a restart. Killing the proxy makes its calls Unavailable; starting it again recovers. A
// registration made with --persist survives a daemon restart; unregister removes it.
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { snapshotsApi } from "@berth/api";
import { createClient } from "@berth/client";
import { classOf } from "@berth/core";
import type { Daemon } from "@berth/daemon";
import { ctrIn, exec, requireRoot, requireTool, startRegistry, type Ctr, type TestRegistry } from "@berth/testing";
import { configIn, eventually, rows, startBerthd, startProxyIn, startProxyProcess, tearDown, tempDir, type ProxyProcess } from "./helpers.js";

const BERTH = join(dirname(createRequire(import.meta.url).resolve("@berth/cli")), "bin", "berth.js");

describe("registering a proxy snapshotter with a running berthd", () => {
  let dir: string;
  let registry: TestRegistry | undefined;
  let proxy: ProxyProcess | undefined;
  let daemon: Daemon | undefined;
  let ctr: Ctr;
  let image: string;
  const ns = `berth-dyn-${randomBytes(3).toString("hex")}`;
  const berth = async (...args: string[]) => (await exec(process.execPath, [BERTH, "-a", daemon!.address, ...args])).stdout;
  const listed = async (id: string) => rows(await ctr("plugins", "ls")).find((r) => r[0] === "io.containerd.snapshotter.v1" && r[1] === id);
  // Prepare and remove an empty snapshot: both reach the backend (List is answered from metadata).
  const roundTrip = async (id: string, key: string) => {
    const client = createClient({ address: daemon!.address, namespace: ns });
    try {
      const snapshots = client.service(snapshotsApi.Snapshots);
      await snapshots.prepare({ snapshotter: id, key, parent: "" });
      await snapshots.remove({ snapshotter: id, key });
    } finally {
      client.close();
    }
  };

  beforeAll(async () => {
    requireRoot("the proxy mounts overlayfs and ctr runs containers");
    for (const tool of ["ctr", "runc", "containerd-shim-runc-v2"]) await requireTool(tool, tool === "runc" ? "runc" : "containerd");
    dir = await tempDir("berth-dyn-");
    registry = await startRegistry({ images: ["tiny"] });
    image = `${registry.host}/tiny:latest`;
    daemon = await startBerthd(configIn(dir));
    ctr = ctrIn(daemon.address, ns);
    proxy = await startProxyIn(dir);
  }, 180_000);

  afterAll(() => tearDown({ dir, registry, proxy, daemon: daemon && { ctr, close: () => daemon!.close() } }), 120_000);

  it("appears in ctr plugins ls at once and is usable at once", async () => {
    expect(await listed("dyn")).toBeUndefined();
    await berth("plugins", "register", "--type", "snapshot", "--id", "dyn", "--address", proxy!.address);
    expect((await listed("dyn"))?.at(-1)).toBe("ok");
    expect(await berth("plugins", "registered")).toMatch(/dyn\s+snapshot/);
    await ctr("images", "pull", "--plain-http", "--snapshotter", "dyn", image);
    expect(await ctr("run", "--rm", "--snapshotter", "dyn", image, "c-dyn", "echo", "hi")).toBe("hi\n");
  });

  it("turns calls into Unavailable while the proxy is dead, and recovers when it is back", async () => {
    await proxy!.kill();
    let caught: unknown;
    await roundTrip("dyn", "while-dead").catch((err: unknown) => (caught = err));
    expect(classOf(caught), String(caught)).toBe("Unavailable");
    expect(String(caught)).toContain("proxy plugin dyn");
    await expect(ctr("snapshots", "--snapshotter", "dyn", "prepare", "dead-ctr", "")).rejects.toThrow(/proxy plugin dyn .*No connection established/);

    proxy = await startProxyProcess(proxy!.address, proxy!.root);
    await eventually(() => roundTrip("dyn", "after-restart"));
    expect(await ctr("run", "--rm", "--snapshotter", "dyn", image, "c-dyn2", "echo", "back")).toBe("back\n");
  });

  it("unregister removes it from introspection and from use", async () => {
    await berth("plugins", "unregister", "--id", "dyn");
    expect(await listed("dyn")).toBeUndefined();
    await expect(ctr("snapshots", "--snapshotter", "dyn", "ls")).rejects.toThrow(/snapshotter not loaded: dyn/);
    await expect(berth("plugins", "unregister", "--id", "dyn")).rejects.toThrow(/no proxy plugin dyn/);
  });

  it("a registration made with --persist comes back after a daemon restart", async () => {
    await berth("plugins", "register", "--type", "snapshot", "--id", "kept", "--address", proxy!.address, "--persist");
    await daemon!.close();
    daemon = await startBerthd(configIn(dir));
    ctr = ctrIn(daemon.address, ns);
    expect((await listed("kept"))?.at(-1)).toBe("ok");
    // The image's snapshots were made through "dyn"; unpack them again under "kept" and run.
    await ctr("images", "pull", "--plain-http", "--snapshotter", "kept", image);
    expect(await ctr("run", "--rm", "--snapshotter", "kept", image, "c-kept", "echo", "kept")).toBe("kept\n");
    await berth("plugins", "unregister", "--id", "kept");
    await daemon.close();
    daemon = await startBerthd(configIn(dir));
    ctr = ctrIn(daemon.address, ns);
    expect(await listed("kept")).toBeUndefined();
  });

  it("refuses what it cannot honour at run time, saying why", async () => {
    await expect(berth("plugins", "register", "--type", "content", "--id", "c", "--address", proxy!.address)).rejects.toThrow(/configure them under \[proxy_plugins\]/);
    await expect(berth("plugins", "register", "--id", "rel", "--address", "relative.sock")).rejects.toThrow(/absolute/);
    await expect(berth("plugins", "register", "--id", "walking", "--type", "snapshot", "--address", proxy!.address)).resolves.toBe("");
    await expect(berth("plugins", "register", "--id", "walking", "--type", "snapshot", "--address", proxy!.address)).rejects.toThrow(/already/);
    await berth("plugins", "unregister", "--id", "walking");
  });
});
