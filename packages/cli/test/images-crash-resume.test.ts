// berthd killed with SIGKILL in the middle of `pull multi`, started again on the same root, and
// the pull repeated: blobs committed before the kill are not fetched again, and the layer that
// was half-way resumes with a Range from what its ingest holds. The counting proxy in front of
// the registry measures what was served. berthd runs as a child process (this process cannot
// be killed and carry on), started from the checkout's node_modules/.bin/berthd.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentApi, imagesApi } from "@berth/api";
import { createClient, type TransferProgress } from "@berth/client";
import { ensureFixtureImages, exec, fixtureBlob, mountsBelow, requireRoot, startProxy, startRegistry, type FixtureSummary, type TestProxy, type TestRegistry } from "@berth/testing";
import { runCli } from "../src/index.js";

const REPO = resolve(import.meta.dirname, "../../..");
const BERTHD = join(REPO, "node_modules/.bin/berthd");

describe("berthd killed mid-pull", () => {
  let fixtures: FixtureSummary;
  let registry: TestRegistry;
  let proxy: TestProxy;
  let dir: string;
  let sock: string;
  let daemon: ChildProcess | undefined;

  async function startBerthd(): Promise<ChildProcess> {
    const child = spawn(BERTHD, ["--root", join(dir, "root"), "--state", join(dir, "state"), "-a", sock, "--log-level", "warn"], { cwd: REPO, stdio: "ignore" });
    const client = createClient({ address: sock, timeoutMs: 500 });
    try {
      for (let i = 0; i < 150; i++) {
        if (child.exitCode !== null) throw new Error(`berthd exited with ${child.exitCode}`);
        if (await client.version().then(() => true, () => false)) return child;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error("berthd did not start within 15 s");
    } finally {
      client.close();
    }
  }

  beforeAll(async () => {
    requireRoot("berthd locks its root and unpacks with mounts");
    if (!existsSync(BERTHD)) throw new Error(`${BERTHD} is missing: run pnpm install and pnpm build (scripts/setup.sh)`);
    fixtures = await ensureFixtureImages();
    registry = await startRegistry({ images: ["multi"] });
    proxy = await startProxy(registry.host);
    dir = await mkdtemp(join(tmpdir(), "berth-pull-crash-"));
    sock = join(dir, "berthd.sock");
    daemon = await startBerthd();
  }, 180_000);

  afterAll(async () => {
    if (daemon && daemon.exitCode === null) {
      daemon.kill("SIGKILL");
      await new Promise((r) => daemon!.once("exit", r));
    }
    // A kill during an unpack can leave a snapshot mounted.
    for (const m of dir ? await mountsBelow(dir) : []) await exec("umount", ["-l", m]).catch(() => undefined);
    await proxy?.close();
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it("fetches nothing twice: completed blobs are kept, the partial layer resumes with a Range", async () => {
    const ref = `${proxy.host}/multi:latest`;
    const big = fixtures.multi.layers![2]!;
    const completed = new Set<string>();
    const client = createClient({ address: sock });
    const stop = new AbortController();
    let killed!: () => void;
    const killedAt = new Promise<void>((r) => (killed = r));
    const onProgress = (p: TransferProgress) => {
      if (p.event === "complete") completed.add(p.name);
      // Once the big layer is well under way (and smaller ones done), the daemon dies.
      if (p.name === big.digest && p.event === "downloading" && p.progress > 24 << 20 && daemon?.exitCode === null && !stop.signal.aborted) {
        stop.abort();
        daemon.kill("SIGKILL");
        killed();
      }
    };
    const first = client.pull(ref, { plainHttp: true, snapshotter: "overlayfs", onProgress }).then(
      () => new Error("the pull finished before the kill"),
      (e: unknown) => e as Error,
    );
    await Promise.race([killedAt, first.then((e) => Promise.reject(e))]);
    await new Promise((r) => daemon!.once("exit", r));
    await first;
    client.close();
    expect(completed.size, "some blobs were complete before the kill").toBeGreaterThan(0);
    expect(completed.has(big.digest)).toBe(false);

    daemon = await startBerthd();
    const after = createClient({ address: sock });
    try {
      // What survived: committed blobs, and the big layer's ingest with the bytes written so far.
      for (const digest of completed) expect((await after.service(contentApi.Content).info({ digest })).info?.digest).toBe(digest);
      // A blob may have been committed after the last progress event the client saw: what the
      // store holds, not what the client heard, is what must not be fetched again.
      const blobs = [fixtures.multi.config!, ...fixtures.multi.layers!.map((l) => l.digest)];
      const stored = new Set<string>();
      for (const digest of blobs) {
        const found = await after.service(contentApi.Content).info({ digest }).then(() => true, () => false);
        if (found) stored.add(digest);
      }
      expect(stored.has(big.digest)).toBe(false);
      const { statuses } = await after.service(contentApi.Content).listStatuses({});
      const partial = statuses.find((s) => s.ref === `remote-${big.digest}`);
      expect(partial, JSON.stringify(statuses.map((s) => s.ref))).toBeDefined();
      const offset = Number(partial!.offset);
      expect(offset).toBeGreaterThan(0);
      expect(offset).toBeLessThan(big.size);

      const seen = proxy.requests.length;
      let out = "";
      const code = await runCli(["-a", sock, "images", "pull", "--plain-http", ref], { out: (t) => (out += t), err: (t) => (out += t), env: {}, signal: new AbortController().signal });
      expect(code, out).toBe(0);
      const again = proxy.requests.slice(seen).filter((r) => r.method === "GET" && r.path.includes("/blobs/"));
      for (const digest of stored) expect(again.filter((r) => r.path.includes(digest)), `${digest} fetched again`).toEqual([]);
      const resumed = again.filter((r) => r.path.includes(big.digest));
      expect(resumed.map((r) => [r.range, r.bodyBytes])).toEqual([[`bytes=${offset}-`, big.size - offset]]);
      // Nothing beyond what was missing: the served bytes add up to the blobs not yet complete.
      const missing = blobs.filter((d) => !stored.has(d) && d !== big.digest);
      const sizes = new Map(fixtures.multi.layers!.map((l) => [l.digest, l.size]));
      sizes.set(fixtures.multi.config!, fixtureBlob("multi", fixtures.multi.config!).length);
      const servedOthers = again.filter((r) => !r.path.includes(big.digest)).reduce((n, r) => n + r.bodyBytes, 0);
      const partialOthers = statuses.filter((s) => s.ref !== `remote-${big.digest}`).reduce((n, s) => n + Number(s.offset), 0);
      const expectedOthers = missing.reduce((n, d) => n + (sizes.get(d) ?? 0), 0) - partialOthers;
      expect(servedOthers).toBe(expectedOthers);

      const { image } = await after.service(imagesApi.Images).get({ name: ref });
      expect(image?.target?.digest).toBe(fixtures.multi.digest);
      const check = await after.checkImages([`name==${ref}`]);
      expect(check.map((c) => [c.missing.length, c.unpacked])).toEqual([[0, true]]);
      expect((await after.service(contentApi.Content).listStatuses({})).statuses).toEqual([]);
    } finally {
      after.close();
    }
  }, 300_000);
});
