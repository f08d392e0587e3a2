// `ctr snapshots` end to end, for any snapshotter plugin: an in-process berthd with the real
// stores (content-local, metadata-lmdb), the snapshotter under test, the event plugins and this
// package's services, driven by Debian's ctr 1.6. Every mount line ctr prints is executed, and
// what it mounts is looked at; every mount is undone, also when a step fails.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventPayloads, packAny, unpackAny } from "@berth/api";
import { createClient, type BerthClient } from "@berth/client";
import {
  createJsonLogger,
  defaultServerConfig,
  isLogLevel,
  isPluginRegistration,
  silentLogger,
  type Envelope,
  type PluginRegistration,
  type ServerConfig,
} from "@berth/core";
import { startDaemon, type Daemon } from "@berth/daemon";
import { eventsGrpcPlugin, exchangePlugin } from "@berth/events";
import { servicePlugins } from "../src/index.js";
import { exec, requireRoot, requireTool } from "./helpers.js";

export interface SnapshotsScenario {
  /** The snapshotter's id, as `ctr --snapshotter` names it. */
  readonly snapshotter: string;
  /** Its plugin registration(s); fails, saying why, when the package is not ready. */
  plugins(): Promise<PluginRegistration[]>;
  /** Prepares the host (a loop-mounted btrfs, …) and the config; returns how to undo it. */
  setup?(dir: string, config: ServerConfig): Promise<() => Promise<void>>;
}

/** The one registration of `typeUri` that `pkg` exports; fails, naming what is missing, if none. */
export async function exportedPlugin(pkg: string, typeUri: string): Promise<PluginRegistration> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pkg)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${pkg} cannot be imported (is it built? run its tsc -p tsconfig.json): ${(err as Error).message}`);
  }
  const found = Object.values(mod).filter(isPluginRegistration).filter((r) => r.type.uri === typeUri);
  if (found.length !== 1) {
    throw new Error(`${pkg} must export exactly one ${typeUri} plugin registration for this test; it exports ${found.length}`);
  }
  return found[0]!;
}

/** Every mount point at or below `dir`, deepest first. */
export async function mountsBelow(dir: string): Promise<string[]> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  return info
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(dir + sep)))
    .sort((a, b) => b.length - a.length);
}

/** ctr's table output as rows of whitespace-separated cells, header dropped. */
const rows = (table: string) =>
  table
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.trim().split(/\s+/));

export function describeCtrSnapshots(title: string, scenario: SnapshotsScenario): void {
  describe(title, () => {
    let dir: string;
    let mnt: string;
    let daemon: Daemon | undefined;
    let client: BerthClient | undefined;
    let events: ChildProcess | undefined;
    let eventLog = "";
    const seen: Envelope[] = [];
    const stopWatching = new AbortController();
    let undoSetup: (() => Promise<void>) | undefined;
    let nextMount = 0;
    const sn = scenario.snapshotter;
    const ctr = (...args: string[]) => exec("ctr", ["-a", daemon!.address, ...args], { maxBuffer: 16 << 20 });
    const snapshots = (...args: string[]) => ctr("snapshots", "--snapshotter", sn, ...args);

    /** Runs the `mount …` lines ctr printed for `target` (one per mount) and checks they mounted there. */
    async function mountPrinted(printed: string, target: string): Promise<void> {
      const lines = printed.trim().split("\n").filter((l) => l.startsWith("mount "));
      expect(lines.length, printed).toBeGreaterThan(0);
      for (const line of lines) {
        expect(line, "ctr prints the target it was given").toContain(` ${target} `);
        await exec("bash", ["-c", line]);
      }
      expect(await mountsBelow(target)).toContain(target);
    }

    /** A fresh mount point, with what `ctr snapshots mounts` prints for `key` mounted on it. */
    async function mountSnapshot(key: string): Promise<string> {
      const target = join(mnt, `${key}-${nextMount++}`);
      await mkdir(target, { recursive: true });
      const { stdout } = await snapshots("mounts", target, key);
      await mountPrinted(stdout, target);
      return target;
    }

    const unmount = (target: string) => exec("umount", ["-R", target]);

    beforeAll(async () => {
      requireRoot();
      await requireTool("ctr", "containerd");
      await requireTool("mount", "mount");
      const plugins = await scenario.plugins();
      const stores = [
        await exportedPlugin("@berth/content-local", "io.containerd.content.v1"),
        await exportedPlugin("@berth/metadata-lmdb", "io.containerd.metadata.v1"),
      ];
      dir = await mkdtemp(join(tmpdir(), `berth-ctr-snapshots-${sn}-`));
      mnt = join(dir, "mnt");
      const config = defaultServerConfig();
      config.root = join(dir, "root");
      config.state = join(dir, "state");
      config.grpc.address = join(dir, "berthd.sock");
      undoSetup = await scenario.setup?.(dir, config);
      const level = process.env["BERTH_TEST_LOG"] ?? "";
      const log = isLogLevel(level) ? createJsonLogger({ level }) : silentLogger;
      daemon = await startDaemon({ plugins: [...stores, ...plugins, exchangePlugin, eventsGrpcPlugin, ...servicePlugins], config, log });
      client = createClient({ address: daemon.address, namespace: "default", timeoutMs: 60_000 });

      events = spawn("ctr", ["-a", daemon.address, "events"], { stdio: ["ignore", "pipe", "ignore"] });
      events.stdout!.on("data", (d) => (eventLog += d));
      // The same events through @berth/client: ctr 1.6's event types predate their `snapshotter` field.
      void (async () => {
        for await (const env of client!.subscribe(["topic~=/snapshot/"], stopWatching.signal)) seen.push(env);
      })().catch(() => undefined);
      const probe = packAny(eventPayloads.NamespaceCreateSchema, { name: "probe" });
      for (let i = 0; i < 100 && !eventLog.includes("/probe/ready"); i++) {
        await client.publish("/probe/ready", probe);
        await new Promise((r) => setTimeout(r, 50));
      }
      if (!eventLog.includes("/probe/ready")) throw new Error("ctr events never subscribed");
    }, 120_000);

    afterAll(async () => {
      stopWatching.abort();
      events?.kill("SIGINT");
      if (dir) for (const target of await mountsBelow(mnt)) await unmount(target).catch(() => undefined);
      client?.close();
      await daemon?.close();
      await undoSetup?.();
      if (dir) await rm(dir, { recursive: true, force: true });
    }, 120_000);

    it(`ctr plugins ls lists the ${sn} snapshotter and the snapshots service as ok`, async () => {
      const { stdout } = await ctr("plugins", "ls");
      expect(stdout).toMatch(new RegExp(`io\\.containerd\\.snapshotter\\.v1\\s+${sn}\\s+.*\\s+ok`));
      expect(stdout).toMatch(/io\.containerd\.grpc\.v1\s+snapshots\s+-\s+ok/);
    });

    it("prepare, write through the printed mounts, commit; a child sees the parent and writes its own layer", async () => {
      await snapshots("prepare", "base-active");
      const base = await mountSnapshot("base-active");
      try {
        await writeFile(join(base, "from-base"), "base layer\n");
        await mkdir(join(base, "dir"));
        await writeFile(join(base, "dir", "shadowed"), "old\n");
      } finally {
        await unmount(base);
      }
      await snapshots("commit", "base", "base-active");

      // prepare --target prints the mount lines itself.
      const target = join(mnt, "child-direct");
      await mkdir(target, { recursive: true });
      const { stdout } = await snapshots("prepare", "--target", target, "child", "base");
      await mountPrinted(stdout, target);
      try {
        expect(await readFile(join(target, "from-base"), "utf8")).toBe("base layer\n");
        await writeFile(join(target, "dir", "shadowed"), "new\n");
        await writeFile(join(target, "from-child"), "x".repeat(10_000));
      } finally {
        await unmount(target);
      }
      const again = await mountSnapshot("child");
      try {
        expect(await readFile(join(again, "dir", "shadowed"), "utf8")).toBe("new\n");
        expect((await readFile(join(again, "from-child"), "utf8")).length).toBe(10_000);
      } finally {
        await unmount(again);
      }
    });

    it("view mounts read-only and shows the committed files", async () => {
      const target = join(mnt, "view-direct");
      await mkdir(target, { recursive: true });
      const { stdout } = await snapshots("view", "--target", target, "v", "base");
      await mountPrinted(stdout, target);
      try {
        expect(await readFile(join(target, "dir", "shadowed"), "utf8")).toBe("old\n");
        await expect(writeFile(join(target, "nope"), "x")).rejects.toThrow(/EROFS|read-only/);
      } finally {
        await unmount(target);
      }
    });

    it("ls and tree show keys, parents and kinds", async () => {
      const listed = rows((await snapshots("ls")).stdout);
      expect(listed).toContainEqual(["base", "Committed"]);
      expect(listed).toContainEqual(["child", "base", "Active"]);
      expect(listed).toContainEqual(["v", "base", "View"]);
      expect(listed).toHaveLength(3);
      const { stdout: tree } = await snapshots("tree");
      expect(tree).toMatch(/^ base\n(  \\_ (child|v)\n){2}$/);
    });

    it("info and label: labels live with the snapshot, ctr's gc.root label included", async () => {
      const info = JSON.parse((await snapshots("info", "child")).stdout) as Record<string, unknown>;
      expect(info).toMatchObject({ Kind: "Active", Name: "child", Parent: "base" });
      expect(Object.keys(info["Labels"] as object)).toContain("containerd.io/gc.root");
      const { stdout: labelled } = await snapshots("label", "child", "tier=app", "containerd.io/snapshot/probe=1");
      expect(labelled.trim().split(",").sort()).toEqual(expect.arrayContaining(["tier=app", "containerd.io/snapshot/probe=1"]));
      await snapshots("label", "child", "tier=");
      const after = JSON.parse((await snapshots("info", "child")).stdout) as { Labels: Record<string, string> };
      expect(after.Labels["tier"]).toBeUndefined();
      expect(after.Labels["containerd.io/snapshot/probe"]).toBe("1");
    });

    it("usage counts a snapshot's own layer", async () => {
      const all = rows((await snapshots("usage", "-b")).stdout);
      expect(all.map((r) => r[0]).sort()).toEqual(["base", "child", "v"]);
      const [row] = rows((await snapshots("usage", "-b", "child")).stdout);
      expect(row![0]).toBe("child");
      expect(Number(row![1])).toBeGreaterThanOrEqual(10_000);
      expect(Number(row![2])).toBeGreaterThanOrEqual(2);
    });

    it("namespaces keep their own snapshots under the same keys", async () => {
      await ctr("-n", "other", "snapshots", "--snapshotter", sn, "prepare", "child");
      expect(rows((await ctr("-n", "other", "snapshots", "--snapshotter", sn, "ls")).stdout)).toEqual([["child", "Active"]]);
      const failed = await ctr("-n", "other", "snapshots", "--snapshotter", sn, "prepare", "x", "base").catch((e: { stderr: string }) => e);
      expect((failed as { stderr?: string }).stderr).toMatch(/parent snapshot "base" does not exist: not found/);
      await ctr("-n", "other", "snapshots", "--snapshotter", sn, "rm", "child");
      expect(rows((await snapshots("ls")).stdout)).toHaveLength(3);
    });

    it("rm refuses a parent with children, then removes everything", async () => {
      const refused = await snapshots("rm", "base").catch((e: { stderr: string }) => e);
      expect((refused as { stderr?: string }).stderr).toMatch(/with child: failed precondition/);
      await snapshots("rm", "child", "v");
      await snapshots("rm", "base");
      expect(rows((await snapshots("ls")).stdout)).toEqual([]);
    });

    it("an unknown snapshotter is InvalidArgument, in containerd's words", async () => {
      const failed = await ctr("snapshots", "--snapshotter", "nope", "ls").catch((e: { stderr: string }) => e);
      expect((failed as { stderr?: string }).stderr).toMatch(/snapshotter not loaded: nope: invalid argument/);
    });

    it("ctr events saw /snapshot/prepare, /snapshot/commit and /snapshot/remove; subscribers get the snapshotter too", async () => {
      // ctr 1.6 decodes these events with types that lack field 5 (`snapshotter`, added later).
      const want = [
        / default \/snapshot\/prepare \{"key":"child","parent":"base"\}/,
        / default \/snapshot\/commit \{"key":"base-active","name":"base"\}/,
        / default \/snapshot\/remove \{"key":"base"\}/,
        / other \/snapshot\/prepare \{"key":"child"\}/,
      ];
      for (let i = 0; i < 50 && !want.every((re) => re.test(eventLog)); i++) await new Promise((r) => setTimeout(r, 100));
      for (const re of want) expect(eventLog).toMatch(re);
      // View publishes nothing, as in containerd.
      expect(eventLog).not.toMatch(/\/snapshot\/prepare \{"key":"v"/);

      const decoded = seen.map((e) => {
        const schema =
          e.topic === "/snapshot/prepare"
            ? eventPayloads.SnapshotPrepareSchema
            : e.topic === "/snapshot/commit"
              ? eventPayloads.SnapshotCommitSchema
              : eventPayloads.SnapshotRemoveSchema;
        const m = unpackAny(schema, e.event) as { key: string; snapshotter: string } | undefined;
        return `${e.namespace} ${e.topic} ${m?.key} ${m?.snapshotter}`;
      });
      expect(decoded).toEqual(
        expect.arrayContaining([
          `default /snapshot/prepare child ${sn}`,
          `default /snapshot/commit base-active ${sn}`,
          `default /snapshot/remove base ${sn}`,
          `other /snapshot/remove child ${sn}`,
        ]),
      );
    });
  });
}
