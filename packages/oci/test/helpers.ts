import { execFile, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { afterEach } from "vitest";
import type { SpecContext } from "../src/index.js";

export const run = promisify(execFile);

export const ctx = (rootfs?: string): SpecContext => ({ namespace: "berth-test", id: "c1", rootfs });

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** Runs `fn` after the current test, last registered first. */
export function afterThisTest(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

/** A fresh directory, removed after the test. */
export async function tempDir(prefix = "berth-oci-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  afterThisTest(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Fails with a clear message when a tool the test needs is missing. */
export async function requireTool(name: string, debianPackage: string): Promise<string> {
  try {
    return (await run("sh", ["-c", `command -v ${name}`])).stdout.trim();
  } catch {
    throw new Error(`${name} is not installed: apt-get install ${debianPackage}`);
  }
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error("this test needs root (it runs containers with runc)");
}

/** A rootfs with only the user database files given (the rest of an image does not matter to lookups). */
export async function userRootfs(files: { passwd?: string; group?: string }): Promise<string> {
  const root = await tempDir("berth-oci-rootfs-");
  await chmod(root, 0o755); // mkdtemp makes it 0700: a non-root container user could not reach /proc
  await mkdir(join(root, "etc"));
  if (files.passwd !== undefined) await writeFile(join(root, "etc/passwd"), files.passwd);
  if (files.group !== undefined) await writeFile(join(root, "etc/group"), files.group);
  return root;
}

export const PASSWD = [
  "root:x:0:0:root:/root:/bin/sh",
  "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin",
  "# a comment",
  "",
  "app:x:1000:1000:App:/home/app:/bin/sh",
  "svc:x:1001:1500::/srv:/bin/false",
  "broken:x:notanumber:0::/:/bin/sh",
].join("\n");

export const GROUP = [
  "root:x:0:",
  "daemon:x:1:",
  "wheel:x:10:root,app",
  "app:x:1000:app",
  "audio:x:29:app,svc",
  "svcgrp:x:1500:",
  "video:x:44:svc",
].join("\n");

/**
 * A rootfs holding busybox-static (from Debian's busybox-static package) with the applets the
 * tests call, and the user database above.
 */
export async function busyboxRootfs(): Promise<string> {
  const busybox = "/bin/busybox";
  await requireTool("busybox", "busybox-static");
  const { stdout } = await run("file", ["-L", busybox]).catch(() => ({ stdout: "" }));
  if (stdout && !/statically linked|static-pie/.test(stdout)) throw new Error(`${busybox} is not static: apt-get install busybox-static`);
  const root = await userRootfs({ passwd: PASSWD, group: GROUP });
  await mkdir(join(root, "bin"));
  await copyFile(busybox, join(root, "bin/busybox"));
  await chmod(join(root, "bin/busybox"), 0o755);
  for (const applet of ["sh", "id", "cat", "hostname", "pwd", "env", "ls", "grep", "touch", "echo", "true", "unshare"]) {
    await symlink("busybox", join(root, "bin", applet));
  }
  await mkdir(join(root, "tmp"), { mode: 0o1777 });
  return root;
}

export interface PrivateContainerd {
  readonly dir: string;
  ctr(args: readonly string[]): Promise<string>;
}

/**
 * Debian's containerd with its own root, state and sockets in a temp dir (CRI off), so it never
 * meets a system containerd; stopped after the test. The reference for what containerd's specs
 * look like.
 */
export async function startPrivateContainerd(): Promise<PrivateContainerd> {
  await requireTool("containerd", "containerd");
  await requireTool("ctr", "containerd");
  const dir = await tempDir("berth-oci-containerd-");
  const address = join(dir, "containerd.sock");
  const q = JSON.stringify;
  await writeFile(
    join(dir, "config.toml"),
    [
      "version = 2",
      `root = ${q(join(dir, "root"))}`,
      `state = ${q(join(dir, "state"))}`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      `[grpc]\n  address = ${q(address)}`,
      `[ttrpc]\n  address = ${q(`${address}.ttrpc`)}`,
      '[debug]\n  address = ""\n  level = "warn"',
      '[metrics]\n  address = ""',
      `[plugins."io.containerd.internal.v1.opt"]\n  path = ${q(join(dir, "opt"))}`,
      "",
    ].join("\n"),
  );
  const log = openSync(join(dir, "containerd.log"), "a");
  const proc = spawn("containerd", ["--config", join(dir, "config.toml")], { stdio: ["ignore", log, log] });
  closeSync(log);
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  // Registered after tempDir's removal, so it runs first.
  afterThisTest(async () => {
    proc.kill("SIGTERM");
    const killer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(killer);
  });
  const ctr = async (args: readonly string[]) =>
    (await run("ctr", ["-a", address, "-n", "berth-test", ...args], { maxBuffer: 1 << 26 })).stdout;
  for (let attempt = 0; ; attempt++) {
    try {
      await ctr(["version"]);
      return { dir, ctr };
    } catch (err) {
      if (attempt > 200 || proc.exitCode !== null) throw new Error(`containerd did not start (see ${dir}/containerd.log)`, { cause: err });
      await sleep(100);
    }
  }
}
