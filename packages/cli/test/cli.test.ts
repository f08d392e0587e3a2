import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventPayloads, packAny } from "@berth/api";
import { createClient } from "@berth/client";
import { defaultServerConfig } from "@berth/core";
import { startDaemon, type Daemon } from "@berth/daemon";
import { eventsGrpcPlugin, exchangePlugin } from "@berth/events";
import { runCli } from "../src/index.js";

describe("berth CLI", () => {
  let dir: string;
  let daemon: Daemon;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-cli-"));
    const config = defaultServerConfig();
    config.root = join(dir, "root");
    config.state = join(dir, "state");
    config.grpc.address = join(dir, "berthd.sock");
    daemon = await startDaemon({ plugins: [exchangePlugin, eventsGrpcPlugin], config });
  });
  afterAll(async () => {
    await daemon?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const run = async (argv: string[], env: NodeJS.ProcessEnv = {}, signal = new AbortController().signal) => {
    let out = "";
    const code = await runCli(argv, { out: (t) => (out += t), err: () => {}, env, signal });
    return { code, out };
  };

  it("version shows client and server", async () => {
    const { code, out } = await run(["-a", daemon.address, "version"]);
    expect(code).toBe(0);
    expect(out).toMatch(/Server:\n  Version:  v0\.1\.0\+berth/);
  });

  it("takes the address from CONTAINERD_ADDRESS", async () => {
    const { out } = await run(["plugins", "ls"], { CONTAINERD_ADDRESS: daemon.address });
    expect(out).toContain("io.containerd.event.v1");
  });

  it("plugins ls prints ctr's columns, and filters", async () => {
    const { out } = await run(["-a", daemon.address, "plugins", "ls"]);
    const lines = out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TYPE\s+ID\s+PLATFORMS\s+STATUS$/);
    expect(lines).toContainEqual(expect.stringMatching(/^io\.containerd\.grpc\.v1\s+version\s+-\s+ok$/));
    const filtered = await run(["-a", daemon.address, "plugins", "ls", "type==io.containerd.event.v1"]);
    expect(filtered.out.trimEnd().split("\n")).toHaveLength(2);
  });

  it("events prints events as JSON until interrupted, in the -n namespace's stream", async () => {
    const ctl = new AbortController();
    let out = "";
    const running = runCli(["-a", daemon.address, "events"], { out: (t) => (out += t), err: () => {}, env: {}, signal: ctl.signal });
    const client = createClient({ address: daemon.address, namespace: "cli-test" });
    for (let i = 0; i < 50 && !out.includes("/cli/test"); i++) {
      await client.publish("/cli/test", packAny(eventPayloads.ContainerDeleteSchema, { id: "c9" }));
      await new Promise((r) => setTimeout(r, 50));
    }
    ctl.abort();
    expect(await running).toBe(0);
    client.close();
    expect(out).toMatch(/Z cli-test \/cli\/test \{"id":"c9"\}\n/);
  });

  it("--version prints the client version without a daemon", async () => {
    const { code, out } = await run(["--version"]);
    expect(code).toBe(0);
    expect(out).toBe("berth v0.1.0+berth\n");
  });

  it("an unknown command is an error", async () => {
    await expect(run(["-a", daemon.address, "frobnicate"])).rejects.toThrow(/unknown command "frobnicate"/);
  });

  it("an unreachable daemon is Unavailable", async () => {
    await expect(run(["-a", join(dir, "nope.sock"), "--timeout", "500", "version"])).rejects.toMatchObject({ errClass: expect.stringMatching(/Unavailable|DeadlineExceeded/) });
  });
});
