import { closeSync, constants, existsSync, openSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { Socket } from "node:net";
import { join } from "node:path";
import { mkfifo } from "@berth/native";

/** The FIFO paths handed to the shim for one process; "" for a stream the process does not get. */
export interface FifoPaths {
  readonly stdin: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly terminal: boolean;
}

/** Where a process's output goes, chunk by chunk, and when its stream ended. */
export interface OutputSink {
  data(chunk: Buffer): void;
  end(): void;
}

/**
 * The daemon's side of a process's FIFOs: it reads stdout/stderr itself (into the log, an exec's
 * buffers or a client's stream) and writes stdin. Opens never block: output FIFOs are opened
 * non-blocking for reading with a placeholder writer held until the process started (else a read
 * before the shim opened its side would see end-of-file), stdin read-write so it needs no reader.
 */
export interface FifoIo {
  readonly paths: FifoPaths;
  /** Resolves when every output FIFO reached end-of-file (all writers closed) or was closed here. */
  readonly outputDone: Promise<void>;
  /** Writes to the process's stdin; undefined without one. */
  readonly stdin: Socket | undefined;
  /** The process started (or failed to): drop the placeholder writers. */
  started(): void;
  /** Closes the daemon's side of stdin so the process reads end-of-file. */
  closeStdin(): void;
  /** Stops reading and writing (FIFOs stay). */
  detach(): void;
  /** Detaches and removes the FIFOs' directory. */
  close(): Promise<void>;
}

export interface FifoWants {
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly terminal: boolean;
}

/**
 * Makes `<dir>/<id>-{stdin,stdout,stderr}` (0700 throughout), the FIFOs a shim opens. `dir` is
 * `{ parent }` for a fresh random directory below it (execs), or `{ exact }` for a fixed one a
 * restarted daemon finds again (a container's init process).
 */
export async function makeFifos(where: { parent: string } | { exact: string }, id: string, wants: FifoWants): Promise<FifoPaths & { dir: string }> {
  let dir: string;
  if ("exact" in where) {
    await rm(where.exact, { recursive: true, force: true });
    await mkdir(where.exact, { recursive: true, mode: 0o700 });
    dir = where.exact;
  } else {
    await mkdir(where.parent, { recursive: true, mode: 0o700 });
    dir = await mkdtemp(join(where.parent, "io-"));
  }
  try {
    const make = (name: string, want: boolean) => {
      if (!want) return "";
      const p = join(dir, `${id}-${name}`);
      mkfifo(p, 0o700);
      return p;
    };
    return {
      dir,
      stdin: make("stdin", wants.stdin),
      stdout: make("stdout", wants.stdout),
      // A terminal merges stderr into stdout.
      stderr: make("stderr", wants.stderr && !wants.terminal),
      terminal: wants.terminal,
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The FIFOs makeFifos made in `dir` for process `id`, as far as they exist. */
export function existingFifos(dir: string, id: string, terminal: boolean): FifoPaths {
  const at = (name: string) => {
    const p = join(dir, `${id}-${name}`);
    return existsSync(p) ? p : "";
  };
  return { stdin: at("stdin"), stdout: at("stdout"), stderr: at("stderr"), terminal };
}

/**
 * Opens the daemon's side of existing FIFOs. `placeholders` is false when reconnecting to a
 * process that already runs (its shim holds the writers).
 */
export function openFifoIo(paths: FifoPaths, sinks: { stdout?: OutputSink | undefined; stderr?: OutputSink | undefined }, opts: { placeholders: boolean; dir?: string }): FifoIo {
  const sockets: Socket[] = [];
  const placeholders: number[] = [];
  const done: Promise<void>[] = [];
  const release = () => {
    for (const fd of placeholders.splice(0)) closeSync(fd);
  };
  const readFrom = (path: string, sink: OutputSink | undefined) => {
    if (path === "" || sink === undefined) return;
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    if (opts.placeholders) placeholders.push(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
    const socket = new Socket({ fd, readable: true, writable: false });
    sockets.push(socket);
    done.push(
      new Promise<void>((resolve) => {
        let ended = false;
        const finish = () => {
          if (ended) return;
          ended = true;
          sink.end();
          resolve();
        };
        socket.on("data", (chunk: Buffer) => sink.data(chunk));
        socket.on("end", finish);
        socket.on("error", finish);
        socket.on("close", finish);
      }),
    );
  };
  let stdin: Socket | undefined;
  try {
    readFrom(paths.stdout, sinks.stdout);
    readFrom(paths.stderr, sinks.stderr);
    if (paths.stdin !== "") {
      stdin = new Socket({ fd: openSync(paths.stdin, constants.O_RDWR | constants.O_NONBLOCK), readable: false, writable: true });
      stdin.on("error", () => {});
      sockets.push(stdin);
    }
  } catch (err) {
    release();
    for (const s of sockets) s.destroy();
    throw err;
  }
  const detach = () => {
    release();
    for (const s of sockets) s.destroy();
  };
  return {
    paths,
    outputDone: Promise.all(done).then(() => undefined),
    stdin,
    started: release,
    closeStdin() {
      // A write's callback runs once all earlier writes are in the pipe; only then close.
      const s = stdin;
      if (s === undefined || s.destroyed) return;
      s.write(Buffer.alloc(0), () => s.destroy());
    },
    detach,
    async close() {
      detach();
      if (opts.dir !== undefined) await rm(opts.dir, { recursive: true, force: true });
    },
  };
}
