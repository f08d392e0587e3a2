// One scenario, run against whatever stores a test file brings: an in-process berthd with the
// event plugins, this package's five services and the given store plugins, driven by
// Debian's `ctr` 1.6 (the wire-compatibility promise checked with a real containerd client)
// and by @berth/client where ctr has no command (image create, raw Write streams).
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentApi, eventPayloads, imagesApi, namespacesApi, packAny, unpackAny } from "@berth/api";
import { createClient, type BerthClient } from "@berth/client";
import { classOf, createJsonLogger, defaultServerConfig, isLogLevel, silentLogger, type Envelope, type PluginRegistration } from "@berth/core";
import { startDaemon, type Daemon } from "@berth/daemon";
import { eventsGrpcPlugin, exchangePlugin } from "@berth/events";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { servicePlugins } from "../src/index.js";
import { RequestStream, exec, requireRoot, requireTool } from "./helpers.js";

const { STAT, WRITE, COMMIT } = contentApi.WriteAction;
type WriteInit = MessageInitShape<typeof contentApi.WriteContentRequestSchema>;
const sha256 = (data: Uint8Array) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

export interface ScenarioOptions {
  /** The content store and metadata plugins to run the services over. */
  storePlugins: () => Promise<PluginRegistration[]>;
  /** Size of the random blob ingested and read back through ctr. */
  blobSize: number;
}

/** A Write stream over @berth/client, one request and one response at a time. */
export function openWrite(client: BerthClient) {
  const requests = new RequestStream<WriteInit>();
  const responses = client.service(contentApi.Content).write(requests)[Symbol.asyncIterator]();
  return {
    async send(init: WriteInit) {
      requests.push(init);
      const r = await responses.next();
      if (r.done) throw new Error("write stream ended without a response");
      return r.value;
    },
    end: () => requests.end(),
    /** Ends the request side and waits until the server has ended the stream (and let go of the ref). */
    async close() {
      requests.end();
      try {
        while (!(await responses.next()).done);
      } catch {
        // The stream already failed; nothing is held.
      }
    },
  };
}

/** Writes one blob through a Write stream, as containerd's remote writer does. */
async function writeBlob(client: BerthClient, ref: string, data: Uint8Array, labels: Record<string, string> = {}): Promise<string> {
  const w = openWrite(client);
  try {
    await w.send({ action: STAT, ref, total: BigInt(data.length), expected: sha256(data) });
    await w.send({ action: WRITE, offset: 0n, data });
    const res = await w.send({ action: COMMIT, offset: BigInt(data.length), total: BigInt(data.length), expected: sha256(data), labels });
    return res.digest;
  } finally {
    await w.close();
  }
}

async function randomFile(path: string, size: number): Promise<string> {
  const hash = createHash("sha256");
  const out = createWriteStream(path);
  for (let left = size; left > 0; ) {
    const chunk = randomBytes(Math.min(left, 4 << 20));
    hash.update(chunk);
    left -= chunk.length;
    if (!out.write(chunk)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  return `sha256:${hash.digest("hex")}`;
}

export function describeCtrScenario(title: string, opts: ScenarioOptions): void {
  describe(title, () => {
    let dir: string;
    let daemon: Daemon;
    let client: BerthClient;
    let events: ChildProcess | undefined;
    let eventLog = "";
    let eventErrors = "";
    const seen: Envelope[] = [];
    const stopWatching = new AbortController();
    const ctr = (...args: string[]) => exec("ctr", ["-a", daemon.address, ...args], { maxBuffer: 16 << 20 });
    const sh = (script: string, ...args: string[]) => exec("bash", ["-c", `set -o pipefail; ${script}`, "bash", daemon.address, ...args], { maxBuffer: 16 << 20 });

    beforeAll(async () => {
      requireRoot();
      await requireTool("ctr", "containerd");
      const stores = await opts.storePlugins();
      dir = await mkdtemp(join(tmpdir(), "berth-services-"));
      const config = defaultServerConfig();
      config.root = join(dir, "root");
      config.state = join(dir, "state");
      config.grpc.address = join(dir, "berthd.sock");
      // BERTH_TEST_LOG=debug (or any level) shows the daemon's log on stderr.
      const level = process.env["BERTH_TEST_LOG"] ?? "";
      const log = isLogLevel(level) ? createJsonLogger({ level }) : silentLogger;
      daemon = await startDaemon({ plugins: [...stores, exchangePlugin, eventsGrpcPlugin, ...servicePlugins], config, log });
      client = createClient({ address: daemon.address, namespace: "default", timeoutMs: 60_000 });

      // `ctr events` in the background for the whole scenario; wait until it is subscribed.
      events = spawn("ctr", ["-a", daemon.address, "events"], { stdio: ["ignore", "pipe", "pipe"] });
      events.stdout!.on("data", (d) => (eventLog += d));
      events.stderr!.on("data", (d) => (eventErrors += d));
      // The same events through @berth/client, for payloads ctr 1.6 cannot decode.
      void (async () => {
        for await (const env of client.subscribe([], stopWatching.signal)) seen.push(env);
      })().catch(() => undefined);
      const probe = packAny(eventPayloads.NamespaceCreateSchema, { name: "probe" });
      for (let i = 0; i < 100 && !eventLog.includes("/probe/ready"); i++) {
        await client.publish("/probe/ready", probe);
        await new Promise((r) => setTimeout(r, 50));
      }
      if (!eventLog.includes("/probe/ready")) throw new Error("ctr events never subscribed");
    }, 60_000);

    afterAll(async () => {
      stopWatching.abort();
      events?.kill("SIGINT");
      client?.close();
      await daemon?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("the five services are loaded and listed by ctr plugins ls", async () => {
      const { stdout } = await ctr("plugins", "ls");
      for (const id of ["namespaces", "content", "images", "containers", "leases"]) {
        expect(stdout).toMatch(new RegExp(`io\\.containerd\\.grpc\\.v1\\s+${id}\\s+-\\s+ok`));
      }
    });

    it("ctr namespaces create / label / ls / rm", async () => {
      await ctr("namespaces", "create", "x", "a=b");
      await ctr("namespaces", "label", "x", "c=d");
      const { stdout: ls } = await ctr("namespaces", "ls");
      const row = ls.split("\n").find((l) => l.startsWith("x "));
      expect(row, ls).toBeDefined();
      expect(row!.trim().split(/\s+/)[1]!.split(",").sort()).toEqual(["a=b", "c=d"]);
      const { stdout: removed } = await ctr("namespaces", "rm", "x");
      expect(removed.trim()).toBe("x");
      expect((await ctr("namespaces", "ls", "-q")).stdout.split("\n")).not.toContain("x");
      // ctr treats NotFound from Delete as done (prints the name, exits 0), so ask directly.
      expect(classOf(await client.service(namespacesApi.Namespaces).get({ name: "x" }).catch((e) => e))).toBe("NotFound");
    });

    it(`ctr content ingest of ${opts.blobSize >> 20} MiB, ls, get (same bytes), label, rm`, async () => {
      const file = join(dir, "blob");
      const digest = await randomFile(file, opts.blobSize);
      await sh('exec ctr -a "$1" content ingest berth-e2e-ref < "$2"', file);

      const { stdout: ls } = await ctr("content", "ls");
      expect(ls).toContain(digest);
      expect((await ctr("content", "ls", "-q")).stdout.split("\n")).toContain(digest);
      const info = await client.service(contentApi.Content).info({ digest });
      expect(info.info?.size).toBe(BigInt(opts.blobSize));

      const { stdout: sum } = await sh('ctr -a "$1" content get "$2" | sha256sum', digest).catch((err: Error) => {
        throw new Error(
          `${err.message}\nA "transport is closing" here means berthd's HTTP/2 server dropped ctr's connection: ctr cancels ` +
            "every 32 KiB Read once it has its bytes, thousands of stream resets on one connection, which the server must " +
            "take as grpc-go does (see packages/services/README.md).",
        );
      });
      expect(`sha256:${sum.split(" ")[0]}`).toBe(digest);

      await ctr("content", "label", digest, "k=v");
      const labelled = (await ctr("content", "ls")).stdout.split("\n").find((l) => l.startsWith(digest));
      expect(labelled).toMatch(/k=v/);

      await ctr("content", "rm", digest);
      expect((await ctr("content", "ls", "-q")).stdout).not.toContain(digest);
    }, 300_000);

    it("ctr content active lists an unfinished ingest, which a later writer can resume", async () => {
      const w = openWrite(client);
      await w.send({ action: STAT, ref: "half-done" });
      await w.send({ action: WRITE, offset: 0n, data: Buffer.from("half") });
      await w.close();
      let active = "";
      for (let i = 0; i < 50 && !active.includes("half-done"); i++) active = (await ctr("content", "active")).stdout;
      expect(active).toMatch(/half-done\s+4\s?B/);
      const again = openWrite(client);
      expect((await again.send({ action: STAT, ref: "half-done" })).offset).toBe(4n);
      await again.close();
      await client.service(contentApi.Content).abort({ ref: "half-done" });
      expect((await ctr("content", "active")).stdout).not.toContain("half-done");
    });

    it("ctr leases create / ls / rm, with a server-generated id and with --id", async () => {
      const { stdout: created } = await ctr("leases", "create");
      const id = created.trim();
      expect(id).toMatch(/^\d+-[A-Za-z0-9_-]{4}$/);
      await ctr("leases", "create", "--id", "mine", "k=v");
      const { stdout: ls } = await ctr("leases", "ls");
      expect(ls).toMatch(new RegExp(`^${id}\\s.*containerd\\.io/gc\\.expire=`, "m"));
      expect(ls).toMatch(/^mine\s.*k=v/m);
      expect((await ctr("leases", "ls", "-q", "id==mine")).stdout.trim()).toBe("mine");
      await ctr("leases", "rm", id, "mine");
      expect((await ctr("leases", "ls", "-q")).stdout.trim()).toBe("");
    });

    it("an image created through the service: ctr images ls / label / rm", async () => {
      const configBlob = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }));
      const configDigest = await writeBlob(client, "e2e-config", configBlob);
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: configBlob.length },
          layers: [],
        }),
      );
      const manifestDigest = await writeBlob(client, "e2e-manifest", manifest);
      const name = "docker.io/berth/e2e:1";
      await client.service(imagesApi.Images).create({
        image: { name, labels: { made: "by-client" }, target: { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: manifestDigest, size: BigInt(manifest.length) } },
      });

      const { stdout: ls } = await ctr("images", "ls");
      const row = ls.split("\n").find((l) => l.startsWith(name));
      expect(row, ls).toContain(manifestDigest);
      expect(row).toContain("application/vnd.oci.image.manifest.v1+json");
      expect(row).toContain("linux/amd64");
      expect(row).toContain("made=by-client");

      await ctr("images", "label", name, "k=v");
      const relabelled = (await ctr("images", "ls")).stdout.split("\n").find((l) => l.startsWith(name));
      expect(relabelled).toMatch(/k=v/);
      await ctr("images", "rm", name);
      expect((await ctr("images", "ls", "-q")).stdout).not.toContain(name);
      // ctr reports NotFound from Delete as a warning, so this shows the code crossed the wire.
      expect((await ctr("images", "rm", name)).stderr).toMatch(/image not found/);
      for (const d of [manifestDigest, configDigest]) await ctr("content", "rm", d);
    });

    it("a wrong digest at commit is FailedPrecondition and the daemon keeps serving", async () => {
      const w = openWrite(client);
      await w.send({ action: STAT, ref: "wrong-digest" });
      await w.send({ action: WRITE, offset: 0n, data: Buffer.from("some bytes") });
      const commit = w.send({ action: COMMIT, offset: 10n, total: 10n, expected: sha256(Buffer.from("other bytes")) });
      await expect(commit).rejects.toThrow();
      expect(classOf(await commit.catch((e) => e))).toBe("FailedPrecondition");
      await w.close();
      await ctr("version");
      await ctr("content", "ls");
      // The failed stream let go of its ref; the ingest is still there to abort.
      await client.service(contentApi.Content).abort({ ref: "wrong-digest" });
    });

    it("a malformed filter is InvalidArgument, through ctr and through the client", async () => {
      const failed = await ctr("content", "ls", "labels.a==").catch((e: { stderr: string }) => e);
      expect((failed as { stderr?: string }).stderr).toMatch(/parse error.*invalid argument/);
      const err = await client.service(imagesApi.Images).list({ filters: ["name=="] }).catch((e) => e);
      expect(classOf(err)).toBe("InvalidArgument");
    });

    it("a call without a namespace is FailedPrecondition", async () => {
      const bare = client.withNamespace("");
      expect(classOf(await bare.service(imagesApi.Images).list({}).catch((e) => e))).toBe("FailedPrecondition");
      expect(classOf(await bare.service(contentApi.Content).info({ digest: sha256(Buffer.from("x")) }).catch((e) => e))).toBe("FailedPrecondition");
    });

    it("two concurrent writers of one ref: one of them is Unavailable", async () => {
      const a = openWrite(client);
      const b = openWrite(client);
      const results = await Promise.allSettled([a.send({ action: STAT, ref: "contended" }), b.send({ action: STAT, ref: "contended" })]);
      const rejected = results.filter((r) => r.status === "rejected");
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      expect(rejected).toHaveLength(1);
      expect(classOf((rejected[0] as PromiseRejectedResult).reason)).toBe("Unavailable");
      await Promise.all([a.close(), b.close()]);
    });

    it("ctr events saw the services' events", async () => {
      const want = ["/namespaces/create", "/namespaces/update", "/namespaces/delete", "/content/delete", "/images/create", "/images/update", "/images/delete"];
      for (let i = 0; i < 50 && !want.every((t) => eventLog.includes(` ${t} `)); i++) await new Promise((r) => setTimeout(r, 100));
      for (const topic of want) expect(eventLog, topic).toContain(` ${topic} `);
      expect(eventLog).toMatch(/ x \/namespaces\/create \{"name":"x","labels":\{"a":"b"\}\}/);
      expect(eventLog).toMatch(/ default \/images\/update \{"name":"docker\.io\/berth\/e2e:1","labels":\{.*"k":"v".*\}\}/);
      expect(eventLog).toMatch(/ default \/content\/delete \{"digest":"sha256:[a-f0-9]{64}"\}/);
    });

    it("/content/create reaches subscribers (ctr 1.6 predates that event and only warns it cannot decode it)", async () => {
      const creates = seen.filter((e) => e.topic === "/content/create");
      expect(creates.length).toBeGreaterThanOrEqual(3);
      const sizes = creates.map((e) => unpackAny(eventPayloads.ContentCreateSchema, e.event)?.size);
      expect(sizes).toContain(BigInt(opts.blobSize));
      expect(creates.every((e) => e.namespace === "default")).toBe(true);
      expect(eventErrors).toMatch(/cannot unmarshal an event from Any/);
    });
  });
}
