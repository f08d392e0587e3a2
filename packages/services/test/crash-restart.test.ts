// berthd killed with SIGKILL in the middle of a 200 MB ingest, then restarted: the ingest
// resumes from its offset, no partial blob is ever listed, lmdb opens cleanly. Also: bad
// input at the gRPC edge gets a clear error and the daemon keeps serving.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentApi } from "@berth/api";
import { createClient } from "@berth/client";
import { classOf } from "@berth/core";
import { exec } from "./helpers.js";

const REPO = resolve(import.meta.dirname, "../../..");
const BERTHD = join(REPO, "node_modules/.bin/berthd");
const SIZE = 200 * 1024 * 1024;

describe("berthd crash during an ingest", () => {
  let dir: string;
  let sock: string;
  let file: string;
  let digest: string;
  let daemon: ChildProcess | undefined;
  const ctr = (...args: string[]) => exec("ctr", ["-a", sock, "-n", "crash", ...args], { maxBuffer: 64 << 20 });

  async function startBerthd(): Promise<ChildProcess> {
    const child = spawn(BERTHD, ["--root", join(dir, "root"), "--state", join(dir, "state"), "-a", sock, "--log-level", "warn"], { cwd: REPO, stdio: "ignore" });
    const client = createClient({ address: sock, timeoutMs: 500 });
    try {
      for (let i = 0; i < 100; i++) {
        if (child.exitCode !== null) throw new Error(`berthd exited with ${child.exitCode}`);
        if (await client.version().then(() => true, () => false)) return child;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error("berthd did not start");
    } finally {
      client.close();
    }
  }

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error("needs root (berthd locks its root and chowns its socket)");
    await exec("sh", ["-c", "command -v ctr"]).catch(() => {
      throw new Error("ctr is required (Debian package containerd); run scripts/setup.sh");
    });
    dir = await mkdtemp(join(tmpdir(), "berth-crash-"));
    sock = join(dir, "berthd.sock");
    file = join(dir, "blob");
    const data = randomBytes(SIZE);
    digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
    await writeFile(file, data);
    daemon = await startBerthd();
  });
  afterAll(async () => {
    daemon?.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  });

  it("resumes from the offset after SIGKILL and never lists a partial blob", async () => {
    // Feed ctr slowly enough that the kill lands mid-ingest.
    const ingest = spawn("ctr", ["-a", sock, "-n", "crash", "content", "ingest", "big-ref"], { stdio: ["pipe", "ignore", "ignore"] });
    ingest.on("error", () => {});
    ingest.stdin.on("error", () => {});
    const source = createReadStream(file, { highWaterMark: 1 << 20 });
    let sent = 0;
    source.on("data", (chunk) => {
      sent += chunk.length;
      if (!ingest.stdin.write(chunk) || sent > SIZE / 2) source.pause();
      if (sent <= SIZE / 2) ingest.stdin.once("drain", () => source.resume());
    });
    let offset = 0;
    for (let i = 0; i < 100 && offset === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const { stdout } = await ctr("content", "active");
      const row = stdout.split("\n").find((l) => l.startsWith("big-ref"));
      offset = row ? Number(row.trim().split(/\s+/)[1]?.replace(/\D+$/, "")) || 1 : 0;
    }
    expect(offset).toBeGreaterThan(0);

    daemon!.kill("SIGKILL");
    await new Promise((r) => daemon!.once("exit", r));
    ingest.kill("SIGKILL");
    source.destroy();

    daemon = await startBerthd();
    expect((await ctr("content", "ls")).stdout).not.toContain(digest);
    const active = (await ctr("content", "active")).stdout;
    expect(active).toMatch(/big-ref/);

    // ctr resumes from the reported offset: its reader is a seekable file.
    await exec("sh", ["-c", `ctr -a ${sock} -n crash content ingest --expected-digest ${digest} --expected-size ${SIZE} big-ref < ${file}`]);
    expect((await ctr("content", "ls")).stdout).toContain(digest);
    expect((await ctr("content", "active")).stdout).not.toMatch(/big-ref/);
    const { stdout } = await exec("sh", ["-c", `ctr -a ${sock} -n crash content get ${digest} | sha256sum`]);
    expect(`sha256:${stdout.split(" ")[0]}`).toBe(digest);
  }, 120_000);

  it("an oversized message is refused and the daemon keeps serving", async () => {
    const client = createClient({ address: sock, namespace: "crash" });
    try {
      const content = client.service(contentApi.Content);
      const huge = async function* () {
        yield { action: contentApi.WriteAction.WRITE, ref: "huge", offset: 0n, data: new Uint8Array(17 << 20) };
      };
      const err = await (async () => {
        for await (const _ of content.write(huge())) {
          /* drain */
        }
      })().catch((e: unknown) => e);
      expect(classOf(err)).toBe("ResourceExhausted");
      expect((await client.version()).version).toMatch(/berth/);
    } finally {
      client.close();
    }
  });

  it("unknown namespaces and digests are NotFound, malformed ones InvalidArgument", async () => {
    const client = createClient({ address: sock, namespace: "crash" });
    try {
      const content = client.service(contentApi.Content);
      expect(classOf(await content.info({ digest: `sha256:${"0".repeat(64)}` }).catch((e: unknown) => e))).toBe("NotFound");
      expect(classOf(await content.info({ digest: "sha256:../../etc/passwd" }).catch((e: unknown) => e))).toBe("InvalidArgument");
      expect(classOf(await client.withNamespace("never-made").service(contentApi.Content).info({ digest }).catch((e: unknown) => e))).toBe("NotFound");
      expect((await client.version()).version).toMatch(/berth/);
    } finally {
      client.close();
    }
  });
});
