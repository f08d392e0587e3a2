// Debian's own containerd client (ctr 1.6, grpc-go) against berthd: the wire-compatibility
// promise checked with a real peer.
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventPayloads, packAny } from "@berth/api";
import { definePlugin, pluginType, skipPlugin } from "@berth/core";
import { BERTH_VERSION } from "../src/index.js";
import { exec, requireRoot, requireTool, startTestDaemon, type TestDaemon } from "./helpers.js";

const TestPlugin = pluginType<object>("io.berth.test.v1");
const broken = definePlugin({ type: TestPlugin, id: "broken", init: () => Promise.reject(new Error("disk on fire")) });
const skipped = definePlugin({ type: TestPlugin, id: "skipped", init: () => Promise.reject(skipPlugin("no btrfs here")) });

describe("ctr against berthd", () => {
  let t: TestDaemon;
  const ctr = (...args: string[]) => exec("ctr", ["-a", t.daemon.address, ...args]);

  beforeAll(async () => {
    requireRoot();
    await requireTool("ctr", "containerd");
    t = await startTestDaemon([broken, skipped]);
  });
  afterAll(() => t?.dispose());

  it("ctr version prints Berth's version and the server UUID", async () => {
    const { stdout } = await ctr("version");
    const server = stdout.slice(stdout.indexOf("Server:"));
    expect(server).toContain(`Version:  ${BERTH_VERSION}`);
    const { uuid } = await t.client.server();
    expect(server).toContain(`UUID: ${uuid}`);
  });

  it("ctr plugins ls lists every loaded plugin with ok, error or skip", async () => {
    const { stdout } = await ctr("plugins", "ls");
    const rows = stdout.trim().split("\n").slice(1).map((line) => line.trim().split(/\s+/));
    const status = new Map(rows.map((r) => [`${r[0]}.${r[1]}`, r[3]]));
    for (const s of t.daemon.plugins.statuses()) expect(status.get(s.uri), s.uri).toBe(s.state);
    expect(status.get("io.containerd.grpc.v1.version")).toBe("ok");
    expect(status.get("io.containerd.event.v1.exchange")).toBe("ok");
    expect(status.get("io.berth.test.v1.broken")).toBe("error");
    expect(status.get("io.berth.test.v1.skipped")).toBe("skip");
  });

  it("ctr plugins ls -d shows a failed plugin's init error", async () => {
    const { stdout } = await ctr("plugins", "ls", "-d", "id==broken");
    expect(stdout).toContain("disk on fire");
    expect(stdout).not.toContain("io.containerd.grpc.v1");
  });

  it("ctr events receives an event published by another client", async () => {
    const child = spawn("ctr", ["-a", t.daemon.address, "events"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    try {
      const payload = packAny(eventPayloads.NamespaceCreateSchema, { name: "interop", labels: { k: "v" } });
      // ctr subscribes asynchronously: publish until it has seen one.
      for (let i = 0; i < 50 && !out.includes("/interop/check"); i++) {
        await t.client.withNamespace("interop-ns").publish("/interop/check", payload);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(out).toMatch(/interop-ns \/interop\/check \{"name":"interop","labels":\{"k":"v"\}\}/);
    } finally {
      child.kill("SIGINT");
    }
  });
});
