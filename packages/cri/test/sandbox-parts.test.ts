// The sandbox part's small pieces on their own: resolv.conf, annotation pass-through, namespace
// modes, oom_score_adj clamping (against this process's real /proc), list filters, the per-pod
// lock and the rollback order.
import { readFile } from "node:fs/promises";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { criApi } from "@berth/api";
import { silentLogger } from "@berth/core";
import { createKeyedLock } from "../src/sandbox/keyed-lock.js";
import { sandboxNamespaces } from "../src/sandbox/namespace-modes.js";
import { canLowerOomScoreAdj, podOomScoreAdj } from "../src/sandbox/oom-score.js";
import type { PodSandbox } from "../src/sandbox/pod-sandbox.js";
import { createRollback } from "../src/sandbox/rollback.js";
import { passthroughAnnotations } from "../src/sandbox/sandbox-annotations.js";
import { resolvConf } from "../src/sandbox/sandbox-files.js";
import { filterPods } from "../src/sandbox/sandbox-filter.js";

describe("sandbox pieces", () => {
  it("writes resolv.conf from a DNS config as containerd does", () => {
    const dns = create(criApi.DNSConfigSchema, { servers: ["1.1.1.1", "8.8.8.8"], searches: ["a.local", "b.local"], options: ["ndots:2", "edns0"] });
    expect(resolvConf(dns)).toBe("search a.local b.local\nnameserver 1.1.1.1\nnameserver 8.8.8.8\noptions ndots:2 edns0\n");
    expect(resolvConf(create(criApi.DNSConfigSchema, {}))).toBe("");
  });

  it("passes through the pod annotations a runtime handler names, globs included", () => {
    const annotations = { "io.katacontainers.config.a": "1", "io.katacontainers.x": "2", other: "3", exact: "4" };
    expect(passthroughAnnotations(annotations, ["io.katacontainers.config.*", "exact"])).toEqual({ "io.katacontainers.config.a": "1", exact: "4" });
    expect(passthroughAnnotations(annotations, [])).toEqual({});
  });

  it("gives the pause process the host's namespaces only for NODE", () => {
    const config = (options: object) => create(criApi.PodSandboxConfigSchema, { linux: { securityContext: { namespaceOptions: options } } });
    expect(sandboxNamespaces(create(criApi.PodSandboxConfigSchema, {}))).toEqual({ network: "pod", pid: "pod", ipc: "pod" });
    expect(sandboxNamespaces(config({ network: criApi.NamespaceMode.NODE, ipc: criApi.NamespaceMode.NODE }))).toEqual({ network: "node", pid: "pod", ipc: "node" });
    // CONTAINER (the kubelet's default pid mode) and TARGET are about the containers; the pause keeps its own.
    expect(sandboxNamespaces(config({ pid: criApi.NamespaceMode.CONTAINER })).pid).toBe("pod");
    expect(sandboxNamespaces(config({ pid: criApi.NamespaceMode.TARGET, targetId: "x" })).pid).toBe("pod");
  });

  it("clamps oom_score_adj to this process's own when restricted or when the host cannot lower it", async () => {
    const own = Number((await readFile("/proc/self/oom_score_adj", "utf8")).trim());
    expect(await podOomScoreAdj(-998, true)).toBe(Math.max(-998, own));
    expect(await podOomScoreAdj(-998, false)).toBe((await canLowerOomScoreAdj()) ? -998 : Math.max(-998, own));
    expect(await podOomScoreAdj(500, true)).toBe(Math.max(500, own));
  });

  it("filters pods by unique ID prefix, state and every label", () => {
    const pod = (id: string, state: "ready" | "notready", labels: Record<string, string>) =>
      ({ id, status: { state, pid: 0 }, config: create(criApi.PodSandboxConfigSchema, { labels }) }) as unknown as PodSandbox;
    const pods = [pod("abc1", "ready", { a: "1", b: "2" }), pod("abc2", "notready", { a: "1" }), pod("def", "ready", {})];
    const ids = (f: Parameters<typeof filterPods>[1]) => filterPods(pods, f).map((p) => p.id);
    expect(ids(undefined)).toEqual(["abc1", "abc2", "def"]);
    expect(ids({ id: "abc1", labelSelector: {} })).toEqual(["abc1"]);
    expect(ids({ id: "abc", labelSelector: {} })).toEqual([]);
    expect(ids({ id: "d", labelSelector: {} })).toEqual(["def"]);
    expect(ids({ id: "", labelSelector: { a: "1" } })).toEqual(["abc1", "abc2"]);
    expect(ids({ id: "", labelSelector: { a: "1", b: "2" } })).toEqual(["abc1"]);
    const notReady = create(criApi.PodSandboxStateValueSchema, { state: criApi.PodSandboxState.SANDBOX_NOTREADY });
    expect(ids({ id: "", state: notReady, labelSelector: {} })).toEqual(["abc2"]);
  });

  it("runs operations on one pod one at a time, and other pods' alongside", async () => {
    const lock = createKeyedLock();
    const order: string[] = [];
    let release!: () => void;
    const first = lock.run("a", async () => {
      order.push("a1 start");
      await new Promise<void>((r) => (release = r));
      order.push("a1 end");
    });
    const second = lock.run("a", async () => void order.push("a2"));
    await lock.run("b", async () => void order.push("b"));
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(["a1 start", "b", "a1 end", "a2"]);
    // A failed operation does not block the next.
    await expect(lock.run("a", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(lock.run("a", async () => "ok")).resolves.toBe("ok");
  });

  it("rolls back newest first and keeps going past a failing step", async () => {
    const rollback = createRollback(silentLogger);
    const done: string[] = [];
    rollback.add("one", () => void done.push("one"));
    rollback.add("two", () => {
      throw new Error("two failed");
    });
    rollback.add("three", async () => void done.push("three"));
    await rollback.run();
    expect(done).toEqual(["three", "one"]);
    await rollback.run();
    expect(done).toEqual(["three", "one"]);
  });
});
