// How shims reach the daemon with events: the ttrpc socket beside the gRPC one
// (containerd.services.events.ttrpc.v1.Events/Forward) and `berthd publish`, which shims run
// through -publish-binary.
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { stat } from "node:fs/promises";
import { create, toBinary } from "@bufbuild/protobuf";
import { AnySchema, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterEach, describe, expect, it } from "vitest";
import { eventPayloads, packAny, ttrpcEventsApi, unpackAny } from "@berth/api";
import type { Envelope } from "@berth/core";
import { createTtrpcClient } from "@berth/ttrpc";
import { BERTHD, requireRoot, startTestDaemon, type TestDaemon } from "./helpers.js";

let t: TestDaemon | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

/**
 * The first envelope on `topic` that `act` (which publishes it) makes. A subscription starts
 * some time after it is asked for, so `act` repeats until one arrives.
 */
async function firstEvent(daemon: TestDaemon, topic: string, act: () => Promise<unknown>): Promise<Envelope> {
  const stop = new AbortController();
  const next = daemon.client.subscribe([`topic=="${topic}"`], stop.signal)[Symbol.asyncIterator]().next();
  let received = false;
  void next.then(() => (received = true));
  try {
    while (!received) {
      await act();
      await Promise.race([next, sleep(100)]);
    }
    return (await next).value as Envelope;
  } finally {
    stop.abort();
  }
}

function publish(address: string, args: string[], stdin: Uint8Array): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BERTHD, "--address", address, "publish", ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
    child.stdin!.end(stdin);
  });
}

const exitEvent = () => packAny(eventPayloads.TaskExitSchema, { containerId: "c1", id: "c1", pid: 42, exitStatus: 3 });

describe("the ttrpc socket for shims", () => {
  it("serves Events/Forward at <grpc address>.ttrpc, root only, keeping the shim's envelope", async () => {
    requireRoot();
    t = await startTestDaemon();
    expect(t.daemon.ttrpcAddress).toBe(`${t.daemon.address}.ttrpc`);
    expect((await stat(t.daemon.ttrpcAddress!)).mode & 0o777).toBe(0o660);

    const shim = createTtrpcClient(t.daemon.ttrpcAddress!, ttrpcEventsApi.Events, { namespace: "ns1" });
    const stamped = new Date("2024-05-06T07:08:09.123Z");
    try {
      const env = await firstEvent(t, "/tasks/exit", () =>
        shim.forward({ envelope: { timestamp: timestampFromDate(stamped), namespace: "ns1", topic: "/tasks/exit", event: exitEvent() } }),
      );
      expect(env.namespace).toBe("ns1");
      expect(env.timestamp.toISOString()).toBe(stamped.toISOString());
      expect(unpackAny(eventPayloads.TaskExitSchema, env.event)).toMatchObject({ containerId: "c1", pid: 42, exitStatus: 3 });
      await expect(shim.forward({ envelope: { namespace: "ns1", topic: "not a topic", event: exitEvent() } })).rejects.toThrow(/topic/);
    } finally {
      await shim.close();
    }
  });

  it("listens where [ttrpc] address says", async () => {
    requireRoot();
    let path = "";
    t = await startTestDaemon([], (c) => {
      path = `${c.grpc.address}.events`;
      c.ttrpc.address = path;
    });
    expect(t.daemon.ttrpcAddress).toBe(path);
    expect((await stat(path)).isSocket()).toBe(true);
  });

  it("is not served without an event exchange, and goes away with the daemon", async () => {
    requireRoot();
    const { startDaemon } = await import("../src/index.js");
    const { configIn, tempDir } = await import("./helpers.js");
    const dir = await tempDir();
    try {
      const daemon = await startDaemon({ plugins: [], config: configIn(dir.path) });
      expect(daemon.ttrpcAddress).toBeUndefined();
      await daemon.close();
      t = await startTestDaemon();
      const address = t.daemon.ttrpcAddress!;
      await t.dispose();
      t = undefined;
      await expect(stat(address)).rejects.toThrow(/ENOENT/);
    } finally {
      await dir.remove();
    }
  });
});

describe("berthd publish", () => {
  it("publishes the Any read from stdin on the topic and namespace given, through the daemon", async () => {
    requireRoot();
    t = await startTestDaemon();
    const any = toBinary(AnySchema, create(AnySchema, exitEvent()));
    const env = await firstEvent(t, "/tasks/exit", async () => {
      const { code, output } = await publish(t!.daemon.address, ["--topic", "/tasks/exit", "--namespace", "ns2"], any);
      expect(code, output).toBe(0);
    });
    expect(env.namespace).toBe("ns2");
    expect(unpackAny(eventPayloads.TaskExitSchema, env.event)).toMatchObject({ containerId: "c1", exitStatus: 3 });
  });

  it("fails, saying why, without a topic, with a bad event or with no daemon", async () => {
    requireRoot();
    t = await startTestDaemon();
    const any = toBinary(AnySchema, create(AnySchema, exitEvent()));
    const noTopic = await publish(t.daemon.address, ["--namespace", "ns2"], any);
    expect(noTopic.code).toBe(1);
    expect(noTopic.output).toMatch(/topic required/);
    const garbage = await publish(t.daemon.address, ["--topic", "/x", "--namespace", "ns2"], new Uint8Array([0xff, 0xff, 0xff]));
    expect(garbage.code).toBe(1);
    expect(garbage.output).toMatch(/not a protobuf Any/);
    const noDaemon = await publish(`${t.dir}/nothing.sock`, ["--topic", "/x", "--namespace", "ns2"], any);
    expect(noDaemon.code).toBe(1);
  });
});
