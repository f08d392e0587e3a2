// runtime.v1.RuntimeService against a real berthd: what works before the sandbox and
// container parts (Version, Status, UpdateRuntimeConfig), and Unimplemented for checkpoints.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BERTH_VERSION, classOf } from "@berth/core";
import { startCriDaemon, type CriDaemon } from "./cri-daemon.js";

describe("CRI RuntimeService", () => {
  let cri: CriDaemon;

  beforeAll(async () => {
    cri = await startCriDaemon();
  }, 120_000);

  afterAll(async () => {
    await cri?.dispose();
  }, 60_000);

  it("Version names Berth and the v1 API", async () => {
    const v = await cri.runtime.version({ version: "0.1.0" });
    expect(v).toMatchObject({ version: "0.1.0", runtimeName: "berth", runtimeVersion: BERTH_VERSION, runtimeApiVersion: "v1" });
  });

  it("Status: runtime ready; network not ready until a CNI config exists", async () => {
    const before = await cri.runtime.status({});
    const cond = (type: string, s = before) => s.status?.conditions.find((c) => c.type === type);
    expect(cond("RuntimeReady")?.status).toBe(true);
    expect(cond("NetworkReady")).toMatchObject({ status: false, reason: "NetworkPluginNotReady" });
    expect(cond("NetworkReady")?.message).toContain("cni plugin not initialized");

    await writeFile(join(cri.cniConfDir, "10-test.conflist"), JSON.stringify({ cniVersion: "1.0.0", name: "test", plugins: [{ type: "loopback" }] }));
    const after = await cri.runtime.status({ verbose: true });
    expect(cond("NetworkReady", after)).toMatchObject({ status: true, reason: "" });
    expect(JSON.parse(after.info["config"]!)).toMatchObject({ sandboxImage: "registry.k8s.io/pause:3.6", containerd: { snapshotter: "overlayfs", defaultRuntimeName: "runc" } });
  });

  it("UpdateRuntimeConfig accepts a pod CIDR", async () => {
    await expect(cri.runtime.updateRuntimeConfig({ runtimeConfig: { networkConfig: { podCidr: "10.88.0.0/16" } } })).resolves.toBeDefined();
  });

  it("CheckpointContainer answers Unimplemented, as containerd 1.6's CRI does", async () => {
    const err = await cri.runtime.checkpointContainer({ containerId: "x" }).then(() => undefined, (e: unknown) => e);
    expect(classOf(err)).toBe("NotImplemented");
  });

  it("ctr sees the k8s.io namespace and the CRI plugin", async () => {
    expect((await cri.berthd.ctr("namespaces", "ls", "-q")).stdout.split("\n")).toContain("k8s.io");
    const plugins = (await cri.berthd.ctr("plugins", "ls")).stdout;
    expect(plugins).toMatch(/io\.containerd\.grpc\.v1\s+cri\s+.*\sok/);
  });
});
