import { lstat, mkdir, mkdtemp, rm, rmdir, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { mkfifo } from "@berth/native";

/** Where FIFO directories are made unless the caller names another (containerd: /run/containerd/fifo). */
export const DEFAULT_FIFO_DIR = "/run/berth/fifo";

/** The paths a task's standard streams go through; "" for a stream the process does not get. */
export interface StdioPaths {
  readonly stdin: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly terminal: boolean;
}

export interface FifoSet extends StdioPaths {
  /** The private directory holding the FIFOs, removed with them. */
  readonly dir: string;
}

export interface FifoSetOptions {
  readonly root?: string | undefined;
  readonly terminal?: boolean | undefined;
  readonly stdin?: boolean | undefined;
  readonly stdout?: boolean | undefined;
  /** Ignored with a terminal: the terminal merges stderr into stdout. */
  readonly stderr?: boolean | undefined;
}

/**
 * Makes `<root>/<random>/<id>-stdin|stdout|stderr` as pkg/cio does: the root 0700, a fresh
 * 0700 directory per process (so another user cannot open or swap the FIFOs), FIFOs 0700.
 */
export async function createFifoSet(id: string, opts: FifoSetOptions = {}): Promise<FifoSet> {
  const root = opts.root ?? DEFAULT_FIFO_DIR;
  await mkdir(root, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(root, "/"));
  const terminal = opts.terminal ?? false;
  const want = { stdin: opts.stdin ?? true, stdout: opts.stdout ?? true, stderr: !terminal && (opts.stderr ?? true) };
  try {
    const path = (name: keyof typeof want) => {
      if (!want[name]) return "";
      const p = join(dir, `${id}-${name}`);
      mkfifo(p, 0o700);
      return p;
    };
    return { dir, terminal, stdin: path("stdin"), stdout: path("stdout"), stderr: path("stderr") };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Removes the FIFOs of a process another client started (ctr's loadFifos): only FIFOs are
 * unlinked, and their directories only when that leaves them empty.
 */
export async function removeFifos(paths: Pick<StdioPaths, "stdin" | "stdout" | "stderr">): Promise<void> {
  const dirs = new Set<string>();
  for (const p of [paths.stdin, paths.stdout, paths.stderr]) {
    if (!p || !p.startsWith("/")) continue; // "" or a log URI such as binary:// or file://
    const st = await lstat(p).catch(() => undefined);
    if (!st?.isFIFO()) continue;
    await unlink(p).catch(() => undefined);
    dirs.add(dirname(p));
  }
  for (const d of dirs) await rmdir(d).catch(() => undefined);
}
