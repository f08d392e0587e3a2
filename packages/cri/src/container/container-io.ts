import type { Readable, Writable } from "node:stream";
import { CriLogLines, type LogStreamName } from "./cri-log-lines.js";
import { openContainerLog, type ContainerLogFile } from "./container-log-file.js";
import { existingFifos, makeFifos, openFifoIo, type FifoIo, type FifoPaths, type OutputSink } from "./fifo-io.js";
import type { NanoClock } from "./nanos.js";

/** A client attached to a running container (CRI Attach through the streaming server). */
export interface AttachStreams {
  readonly stdin?: Readable | undefined;
  readonly stdout?: Writable | undefined;
  readonly stderr?: Writable | undefined;
}

/**
 * The IO of a container's main process, served by the daemon: output goes to the CRI log file
 * and to every attached client; stdin (when the container has one) takes what attached clients
 * send. It outlives any client: the kubelet attaches and detaches at will.
 */
export interface ContainerIo {
  readonly paths: FifoPaths;
  /** The process was started: output now ends when the process's side closes. */
  started(): void;
  /** Serves one attached client until the container's output ends or `signal` aborts. */
  attach(streams: AttachStreams, signal: AbortSignal): Promise<void>;
  reopenLog(): Promise<void>;
  /** Resolves when all output has been read and logged (the process and its children closed it). */
  readonly outputDone: Promise<void>;
  /** Stops serving and closes the log (FIFOs stay for a restarted daemon, removed with `remove`). */
  close(): Promise<void>;
  /** Closes and removes the FIFOs. */
  remove(): Promise<void>;
}

export interface ContainerIoOptions {
  readonly id: string;
  /** The fixed directory holding this container's FIFOs. */
  readonly dir: string;
  readonly stdin: boolean;
  readonly stdinOnce: boolean;
  readonly tty: boolean;
  readonly logPath: string;
  readonly maxLineSize: number;
  readonly clock: NanoClock;
  /** Tells the runtime the process's stdin is closed (task CloseIO), after stdin_once's first client left. */
  readonly closeTaskStdin: () => Promise<void>;
}

/** Makes the FIFOs and starts serving them (before the task exists: the shim opens them). */
export async function createContainerIo(opts: ContainerIoOptions): Promise<ContainerIo> {
  const fifos = await makeFifos({ exact: opts.dir }, opts.id, { stdin: opts.stdin, stdout: true, stderr: true, terminal: opts.tty });
  return serveContainerIo(opts, fifos, true);
}

/** Reconnects to the FIFOs of a container that kept running while the daemon was away. */
export async function reconnectContainerIo(opts: ContainerIoOptions): Promise<ContainerIo> {
  return serveContainerIo(opts, existingFifos(opts.dir, opts.id, opts.tty), false);
}

async function serveContainerIo(opts: ContainerIoOptions, paths: FifoPaths, fresh: boolean): Promise<ContainerIo> {
  const log: ContainerLogFile = await openContainerLog(opts.logPath);
  const clients = new Set<AttachStreams>();
  const sink = (name: LogStreamName): OutputSink => {
    const lines = new CriLogLines(name, opts.maxLineSize, opts.clock, (entry) => log.write(entry));
    return {
      data(chunk) {
        lines.push(chunk);
        for (const c of clients) {
          // A tty has one stream; a client that asked only for stderr still gets it there.
          const to = name === "stdout" ? c.stdout : c.stderr;
          if (to !== undefined && !to.destroyed && to.writable) to.write(chunk);
        }
      },
      end: () => lines.end(),
    };
  };
  let fifo: FifoIo;
  try {
    fifo = openFifoIo(paths, { stdout: sink("stdout"), stderr: sink("stderr") }, { placeholders: fresh, dir: opts.dir });
  } catch (err) {
    await log.close();
    throw err;
  }
  let stdinClosed = false;
  const closeStdin = async () => {
    if (stdinClosed) return;
    stdinClosed = true;
    fifo.closeStdin();
    await opts.closeTaskStdin().catch(() => undefined);
  };
  return {
    paths,
    started: () => fifo.started(),
    outputDone: fifo.outputDone,
    async attach(streams, signal) {
      const client: AttachStreams = streams;
      clients.add(client);
      const input = streams.stdin;
      const target = fifo.stdin;
      let onEnd: (() => void) | undefined;
      if (input !== undefined && target !== undefined && !stdinClosed) {
        input.pipe(target, { end: false });
        onEnd = () => {
          if (opts.stdinOnce) void closeStdin();
        };
        input.once("end", onEnd);
      }
      try {
        await new Promise<void>((resolve) => {
          if (signal.aborted) return resolve();
          signal.addEventListener("abort", () => resolve(), { once: true });
          void fifo.outputDone.then(() => resolve());
        });
      } finally {
        clients.delete(client);
        if (input !== undefined && target !== undefined) {
          input.unpipe(target);
          if (onEnd) input.off("end", onEnd);
        }
        // A stdin_once container's stdin closes when its first client goes, however it went.
        if (input !== undefined && opts.stdinOnce) void closeStdin();
      }
    },
    reopenLog: () => log.reopen(),
    async close() {
      fifo.detach();
      clients.clear();
      await log.close();
    },
    async remove() {
      await fifo.close();
      clients.clear();
      await log.close();
    },
  };
}
