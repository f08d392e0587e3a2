import { execFile } from "node:child_process";
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach } from "vitest";
import { requireRoot as requireRootFor, requireTool, startPrivateContainerd as startReferenceContainerd } from "@berth/testing";
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

export { requireTool };

/** Fails (never skips) unless root. */
export function requireRoot(): void {
  requireRootFor("it runs containers with runc");
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
  /** ctr in the `berth-test` namespace. */
  ctr(args: readonly string[]): Promise<string>;
}

/**
 * @berth/testing's private Debian containerd, stopped after the test: the reference for what
 * containerd's specs look like.
 */
export async function startPrivateContainerd(): Promise<PrivateContainerd> {
  const containerd = await startReferenceContainerd();
  afterThisTest(() => containerd.stop());
  const ctr = containerd.ctrIn("berth-test");
  return { dir: containerd.dir, ctr: (args) => ctr(...args) };
}
