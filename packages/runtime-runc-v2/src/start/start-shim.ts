import { closeSync, constants, existsSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { chmod, mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { spawnProcess, unixListen } from "@berth/native";
import { shimFlagArgs, type ShimFlags } from "../cli/shim-flags.js";
import { decodeShimCgroup } from "./start-options.js";
import { DEFAULT_SOCKET_DIR, groupMode, shimGroup, shimSocketAddress } from "./shim-group.js";

/** argv[0] of the long-running shim: what `ps` shows, and how tools find shims by name. */
export const SHIM_PROCESS_NAME = "containerd-shim-berth-v2";

/**
 * V8 settings for the long-running shim, which allocates little and is never CPU bound: a
 * 1 MiB young generation (default 16 MiB) keeps the heap's dirty pages few, and lite mode (no
 * optimising compiler, lazy feedback vectors) saves about 10 MiB of private memory.
 */
export const SERVER_NODE_FLAGS = ["--max-semi-space-size=1", "--lite-mode"];

/**
 * `start`: run by containerd with the container's bundle as working directory and the runtime
 * options on stdin. Prints the address of the shim that will serve the container — an
 * existing one when the container's group already has a shim, else a new one started here:
 * the socket is bound first and handed over as fd 3, so containerd can connect at once while
 * the server is still loading.
 */
export async function startShim(flags: ShimFlags, scriptPath: string): Promise<string> {
  const options = readStdin();
  const bundle = process.cwd();
  const annotations = readAnnotations(bundle);
  const group = shimGroup(flags.id, annotations, groupMode(process.env));
  const address = groupSocketAddress(flags, group);
  const path = address.slice("unix://".length);

  const listenFd = await bindOrReuse(path);
  if (listenFd === undefined) {
    await writeAddress(bundle, address);
    return address;
  }
  try {
    await chmod(path, 0o600);
    await writeAddress(bundle, address);
    const log = openShimLog(bundle);
    const devNull = openSync("/dev/null", constants.O_RDWR);
    let pid: number;
    try {
      // A session of its own, and nothing of containerd's on stdout: containerd reads start's
      // output to its end, which must come now. Not child_process: loading it costs `start`
      // more than the spawn itself, and this process never waits for the server.
      pid = spawnProcess(process.execPath, [SHIM_PROCESS_NAME, ...SERVER_NODE_FLAGS, scriptPath, ...shimFlagArgs(flags)], {
        cwd: bundle,
        setsid: true,
        fds: [devNull, devNull, log, listenFd],
      });
    } finally {
      closeSync(log);
      closeSync(devNull);
    }
    const shimCgroup = decodeShimCgroup(options);
    if (shimCgroup) joinCgroup(pid, shimCgroup);
    adjustOomScore(pid);
    return address;
  } catch (err) {
    await unlink(path).catch(() => {});
    throw err;
  } finally {
    closeSync(listenFd);
  }
}

/** The socket of `group`'s shim for the daemon and namespace `flags` name (BERTH_SHIM_SOCKET_DIR moves it). */
export function groupSocketAddress(flags: ShimFlags, group: string): string {
  return shimSocketAddress(flags.address, flags.namespace, group, process.env["BERTH_SHIM_SOCKET_DIR"] || DEFAULT_SOCKET_DIR);
}

/** The runtime options containerd writes to stdin (a pipe it closes, or /dev/null). */
function readStdin(): Uint8Array {
  try {
    return readFileSync(0);
  } catch {
    return new Uint8Array();
  }
}

function readAnnotations(bundle: string): Record<string, string> | undefined {
  try {
    return (JSON.parse(readFileSync(join(bundle, "config.json"), "utf8")) as { annotations?: Record<string, string> }).annotations;
  } catch {
    return undefined;
  }
}

/**
 * Binds the group's socket (a listening fd), or finds it served already (undefined). A socket
 * file nobody accepts on is a dead shim's leftover and is replaced.
 */
async function bindOrReuse(path: string): Promise<number | undefined> {
  await mkdir(join(path, ".."), { recursive: true, mode: 0o700 });
  try {
    return unixListen(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
  }
  if (await canConnect(path)) return undefined;
  await unlink(path).catch(() => {});
  return unixListen(path);
}

async function canConnect(path: string): Promise<boolean> {
  // Only needed when a group's socket exists: not loaded on the common path.
  const { createConnection } = await import("node:net");
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(100, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** The bundle's `address` file (written atomically), which a restarted daemon reconnects through. */
async function writeAddress(bundle: string, address: string): Promise<void> {
  const temp = join(bundle, ".address");
  await writeFile(temp, address, { mode: 0o666 });
  await rename(temp, join(bundle, "address"));
}

/**
 * The bundle's `log` FIFO, which containerd reads (and copies to its own log) — the server's
 * stderr. Without a reader (a test, a daemon that makes none) the log goes nowhere.
 */
function openShimLog(bundle: string): number {
  try {
    return openSync(join(bundle, "log"), constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return openSync("/dev/null", constants.O_WRONLY);
  }
}

/** Moves the shim into the cgroup runc options name (ShimCgroup), on every hierarchy that has it. */
function joinCgroup(pid: number, cgroup: string): void {
  const root = "/sys/fs/cgroup";
  const dirs = existsSync(join(root, "cgroup.controllers"))
    ? [join(root, cgroup)]
    : readdirSync(root).map((hierarchy) => join(root, hierarchy, cgroup));
  for (const dir of dirs) {
    if (existsSync(join(dir, "cgroup.procs"))) writeFileSync(join(dir, "cgroup.procs"), String(pid));
  }
}

/**
 * The shim's OOM score one above its parent's (containerd's), so that under memory pressure the
 * kernel picks the shim before the daemon. Best effort: lowering a score needs CAP_SYS_RESOURCE.
 */
function adjustOomScore(pid: number): void {
  try {
    const parent = Number.parseInt(readFileSync(`/proc/${process.ppid}/oom_score_adj`, "utf8"), 10);
    writeFileSync(`/proc/${pid}/oom_score_adj`, String(Math.min(parent + 1, 1000)));
  } catch {
    // not permitted here; the default score stands
  }
}

/** The address file of a bundle, for the server to know its own socket. */
export async function readAddress(bundle: string): Promise<string | undefined> {
  return readFile(join(bundle, "address"), "utf8").then(
    (text) => text.trim() || undefined,
    () => undefined,
  );
}
