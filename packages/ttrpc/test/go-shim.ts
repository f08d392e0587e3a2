// Starting Debian's containerd-shim-runc-v2 the way containerd does (core/runtime/v2/binary.go,
// and runtime/v2/shim in containerd 1.6, the version Debian ships).
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { copyFile, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";

const run = promisify(execFile);

export interface StartedShim {
  /** The shim's ttrpc socket path. */
  readonly socket: string;
  /** Output of the shim's log pipe so far, for failure messages. */
  log(): string;
  /** Kills what is left (the shim, its log reader) and removes its socket. */
  cleanup(shimPid: number | undefined): Promise<void>;
}

/**
 * Runs `<shim> -namespace NS -address ADDR -publish-binary BIN -id ID start` in `bundle`, with
 * TTRPC_ADDRESS naming where the shim sends its events. The shim's server process opens the
 * bundle's `log` FIFO for writing and waits for a reader, as containerd provides one.
 */
export async function startShim(opts: {
  shim: string;
  bundle: string;
  namespace: string;
  id: string;
  grpcAddress: string;
  ttrpcAddress: string;
}): Promise<StartedShim> {
  await run("mkfifo", [join(opts.bundle, "log")]);
  const reader: ChildProcess = spawn("cat", ["log"], { cwd: opts.bundle, stdio: ["ignore", "pipe", "pipe"] });
  let logged = "";
  reader.stdout!.on("data", (chunk: Buffer) => (logged += chunk.toString()));
  reader.stderr!.on("data", (chunk: Buffer) => (logged += chunk.toString()));

  // stdin is where containerd passes runtime options; the shim reads it to its end, so it must end.
  const stdout = await output(
    spawn(opts.shim, ["-namespace", opts.namespace, "-address", opts.grpcAddress, "-publish-binary", "/bin/false", "-id", opts.id, "start"], {
      cwd: opts.bundle,
      env: { ...process.env, TTRPC_ADDRESS: opts.ttrpcAddress },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  const socket = shimSocketPath(stdout);
  return {
    socket,
    log: () => logged,
    async cleanup(shimPid) {
      if (shimPid !== undefined && alive(shimPid)) process.kill(shimPid, "SIGKILL");
      if (reader.exitCode === null) reader.kill("SIGKILL");
      await rm(socket, { force: true });
    },
  };
}

/** A short-lived command's stdout; a non-zero exit rejects with its stderr. */
function output(child: ChildProcess): Promise<string> {
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`shim start exited ${code}: ${stderr}${stdout}`))));
  });
}

/** The shim prints a plain address (unix:///run/containerd/s/…) or, from containerd 2, a JSON bootstrap. */
export function shimSocketPath(stdout: string): string {
  const text = stdout.trim();
  const address = text.startsWith("{") ? (JSON.parse(text) as { address: string }).address : text;
  if (!address.startsWith("unix://")) throw new Error(`unexpected shim address: ${text}`);
  return address.slice("unix://".length);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits (within the test's own timeout) for a process that is not our child to be gone. */
export async function waitGone(pid: number): Promise<void> {
  while (alive(pid)) await sleep(20);
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * An OCI bundle runc can create: `runc spec`'s default with busybox as the whole root
 * filesystem and a cgroup of its own.
 */
export async function writeBusyboxBundle(bundle: string, runc: string, busybox: string, cgroupsPath: string): Promise<void> {
  await run(runc, ["spec", "--bundle", bundle]);
  const spec = JSON.parse(await readFile(join(bundle, "config.json"), "utf8")) as {
    process: { args: string[]; terminal: boolean };
    root: { path: string; readonly: boolean };
    linux: { cgroupsPath?: string };
  };
  spec.process.args = ["/bin/busybox", "sleep", "60"];
  spec.process.terminal = false;
  spec.root = { path: "rootfs", readonly: true };
  spec.linux.cgroupsPath = cgroupsPath;
  await writeFile(join(bundle, "config.json"), JSON.stringify(spec));
  await mkdir(join(bundle, "rootfs", "bin"), { recursive: true });
  await copyFile(busybox, join(bundle, "rootfs", "bin", "busybox"));
}
