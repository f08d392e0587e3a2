// berthd as a process: locks, stale sockets, config errors, discovery, graceful shutdown.
import { spawn } from "node:child_process";
import { lstat, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { parse as parseToml } from "smol-toml";
import { createClient } from "@berth/client";
import { BerthError } from "@berth/core";
import { startDaemon } from "../src/index.js";
import { BERTHD, configIn, exec, exited, requireRoot, requireTool, spawnBerthd, tempDir } from "./helpers.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
async function scratch() {
  const dir = await tempDir();
  cleanups.push(() => dir.remove());
  return dir.path;
}
const berthdArgs = (dir: string) => ["--root", join(dir, "root"), "--state", join(dir, "state"), "--address", join(dir, "berthd.sock"), "--log-level", "warn"];

beforeAll(() => requireRoot());

describe("berthd process", () => {
  it("a second daemon on the same root is refused with a clear message", async () => {
    const dir = await scratch();
    const first = await startDaemon({ plugins: [], config: configIn(dir) });
    cleanups.push(() => first.close());
    const second = configIn(dir, (c) => (c.grpc.address = join(dir, "other.sock")));
    const err = (await startDaemon({ plugins: [], config: second }).catch((e: unknown) => e)) as BerthError;
    expect(err.errClass).toBe("FailedPrecondition");
    expect(err.message).toMatch(new RegExp(`root .*${join(dir, "root")} is in use by another berthd \\(pid ${process.pid}\\)`));
  });

  it("a second daemon on the same socket is refused, and the first keeps serving", async () => {
    const dir = await scratch();
    const first = await startDaemon({ plugins: [], config: configIn(dir) });
    cleanups.push(() => first.close());
    const other = configIn(dir, (c) => (c.root = join(dir, "root2")));
    await expect(startDaemon({ plugins: [], config: other })).rejects.toThrow(/another daemon is serving on/);
    const client = createClient({ address: first.address });
    cleanups.push(async () => client.close());
    expect((await client.version()).version).toMatch(/berth/);
  });

  it("a killed daemon leaves a stale socket and lock that the next one replaces", async () => {
    const dir = await scratch();
    const sock = join(dir, "berthd.sock");
    const killed = await spawnBerthd(berthdArgs(dir), sock);
    killed.kill("SIGKILL");
    await exited(killed);
    expect((await lstat(sock)).isSocket()).toBe(true);
    const next = await spawnBerthd(berthdArgs(dir), sock);
    cleanups.push(async () => (next.kill("SIGTERM"), exited(next)));
    const client = createClient({ address: sock });
    cleanups.push(async () => client.close());
    expect((await client.version()).version).toMatch(/berth/);
  });

  it("a path that is not a socket is never replaced", async () => {
    const dir = await scratch();
    await writeFile(join(dir, "berthd.sock"), "precious");
    await expect(startDaemon({ plugins: [], config: configIn(dir) })).rejects.toThrow(/is not a socket/);
    expect(await readFile(join(dir, "berthd.sock"), "utf8")).toBe("precious");
  });

  it("the socket is 0660 in a directory it created", async () => {
    const dir = await scratch();
    const config = configIn(dir, (c) => (c.grpc.address = join(dir, "deep", "er", "berthd.sock")));
    const daemon = await startDaemon({ plugins: [], config });
    cleanups.push(() => daemon.close());
    expect((await stat(config.grpc.address)).mode & 0o777).toBe(0o660);
  });

  it("SIGTERM shuts down promptly with a subscriber attached and removes the socket", async () => {
    await requireTool("ctr", "containerd");
    const dir = await scratch();
    const sock = join(dir, "berthd.sock");
    const child = await spawnBerthd(berthdArgs(dir), sock);
    const events = spawn("ctr", ["-a", sock, "events"], { stdio: "ignore" });
    cleanups.push(async () => events.kill("SIGKILL"));
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    child.kill("SIGTERM");
    expect(await exited(child)).toBe(0);
    expect(Date.now() - started).toBeLessThan(3000);
    await expect(lstat(sock)).rejects.toThrow(/ENOENT/);
  });

  it("a bad config value names the key, the file and what was expected, and exits non-zero", async () => {
    const dir = await scratch();
    const file = join(dir, "config.toml");
    await writeFile(file, `version = 2\nroot = "${dir}/root"\n[grpc]\nuid = "root"\n[debug]\nlevel = "loud"\n`);
    const err = (await exec(process.execPath, [BERTHD, "--config", file]).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).not.toBe(0);
    expect(err.stderr).toContain(file);
    expect(err.stderr).toMatch(/grpc\.uid: expected an integer/);
    expect(err.stderr).toMatch(/debug\.level: expected one of: trace, debug, info, warn, error, fatal, got "loud"/);
  });

  it("an unknown key is a warning and the daemon runs; flags override the file", async () => {
    const dir = await scratch();
    const file = join(dir, "config.toml");
    await writeFile(file, `version = 2\nroot = "${dir}/ignored"\nmystery = 1\n[grpc]\naddress = "${dir}/from-file.sock"\n`);
    const sock = join(dir, "berthd.sock");
    const child = await spawnBerthd(["--config", file, ...berthdArgs(dir)], sock);
    cleanups.push(async () => (child.kill("SIGTERM"), exited(child)));
    expect(child.output()).toMatch(/"level":"warn".*"key":"mystery"/);
    await expect(lstat(join(dir, "from-file.sock"))).rejects.toThrow(/ENOENT/);
    expect((await stat(join(dir, "root"))).isDirectory()).toBe(true);
  });

  it("berthd config default prints the full default config, every installed plugin included", async () => {
    const { stdout } = await exec(process.execPath, [BERTHD, "config", "default"]);
    const doc = parseToml(stdout) as { version: number; root: string; grpc: { address: string }; plugins: Record<string, unknown> };
    expect(doc.version).toBe(2);
    expect(doc.root).toBe("/var/lib/berth");
    expect(doc.grpc.address).toBe("/run/berth/berthd.sock");
    expect(Object.keys(doc.plugins)).toEqual(expect.arrayContaining(["io.containerd.event.v1.exchange", "io.containerd.grpc.v1.events", "io.containerd.grpc.v1.version"]));
  });

  it("discovers plugin packages installed beside the working directory", async () => {
    const dir = await scratch();
    // A third-party package with no dependency on Berth's code: registrations are recognised
    // by their global brand, so a plugin built against another copy of core still loads.
    const pkg = join(dir, "app", "node_modules", "berth-plugin-hello");
    await mkdir(pkg, { recursive: true });
    await writeFile(join(pkg, "package.json"), JSON.stringify({ name: "berth-plugin-hello", type: "module", berth: { plugins: "./plugins.js" } }));
    await writeFile(
      join(pkg, "plugins.js"),
      `export const hello = { [Symbol.for("berth.plugin.registration.v1")]: true, type: { uri: "io.example.hello.v1" }, id: "hello", requires: [], config: undefined, init: () => ({}) };\n`,
    );
    const sock = join(dir, "berthd.sock");
    const child = await spawnBerthd(berthdArgs(dir), sock, { cwd: join(dir, "app") });
    cleanups.push(async () => (child.kill("SIGTERM"), exited(child)));
    const client = createClient({ address: sock });
    cleanups.push(async () => client.close());
    const plugins = await client.plugins();
    expect(plugins.find((p) => p.type === "io.example.hello.v1" && p.id === "hello")?.status).toBe("ok");
    expect(plugins.find((p) => p.id === "exchange")?.status).toBe("ok");
  });
});
