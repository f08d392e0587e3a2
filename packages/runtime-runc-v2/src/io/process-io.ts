import { mkdirSync, openSync, constants } from "node:fs";
import { dirname } from "node:path";
import { pipe } from "@berth/native";
import type { Reaper } from "../process/reaper.js";
import { startBinaryLogger, type BinaryLogger } from "./binary-logger.js";
import { closeAll, openDevNull, openOutput, openStdinSource, writableFd, type StdinSource } from "./fifo.js";
import { stdioTarget, type Stdio } from "./stdio.js";

/**
 * The stdio of a process without a terminal. Output is not copied by the shim: the process
 * gets the client's FIFO (or the log file, or the logging binary's pipe) as its own stdout and
 * stderr, which costs the shim no buffers, no wake-ups and no memory per container. Only stdin
 * goes through the shim, through a pipe, so CloseIO can end it.
 */
export interface ProcessIo {
  /** What runc passes on to the process as fds 0, 1, 2. */
  readonly stdio: readonly [number, number, number];
  /** Call once runc has returned: the process holds its own copies now. Starts stdin copying. */
  started(): void;
  /** CloseIO: the process sees end of file on stdin once the client has closed its side too. */
  closeStdin(): void;
  /** Releases everything; the logging binary, if any, is stopped. */
  close(): Promise<void>;
}

export interface ProcessIoConfig {
  readonly stdio: Stdio;
  readonly containerId: string;
  readonly namespace: string;
  readonly reaper: Reaper;
}

export async function createProcessIo(config: ProcessIoConfig): Promise<ProcessIo> {
  const { stdio } = config;
  const target = stdioTarget(stdio);
  const handedOver: number[] = [];
  const give = (fd: number) => (handedOver.push(fd), fd);
  let logger: BinaryLogger | undefined;
  let stdin: StdinPipe | undefined;

  try {
    let out: number;
    let err: number;
    switch (target.kind) {
      case "null":
        out = err = give(openDevNull());
        break;
      case "fifo":
        out = give(stdio.stdout !== "" ? openOutput(stdio.stdout) : openDevNull());
        err = stdio.stderr === "" ? give(openDevNull()) : stdio.stderr === stdio.stdout ? out : give(openOutput(stdio.stderr));
        break;
      case "file":
        mkdirSync(dirname(target.path), { recursive: true, mode: 0o755 });
        out = err = give(openSync(target.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644));
        break;
      case "binary":
        logger = await startBinaryLogger(config.reaper, target, { containerId: config.containerId, namespace: config.namespace });
        out = logger.stdout;
        err = logger.stderr;
        break;
    }
    let input: number;
    if (stdio.stdin !== "") {
      const [pipeRead, pipeWrite] = pipe();
      stdin = { path: stdio.stdin, pipeRead, pipeWrite };
      input = pipeRead;
    } else {
      input = give(openDevNull());
    }
    return pipeIo([input, out, err], handedOver, logger, stdin);
  } catch (error) {
    closeAll(handedOver);
    if (stdin) closeAll([stdin.pipeRead, stdin.pipeWrite]);
    await logger?.stop();
    throw error;
  }
}

/** The pipe a process reads its stdin from, fed from the client's FIFO at `path`. */
interface StdinPipe {
  readonly path: string;
  readonly pipeRead: number;
  readonly pipeWrite: number;
}

function pipeIo(fds: readonly [number, number, number], handedOver: number[], logger: BinaryLogger | undefined, stdin: StdinPipe | undefined): ProcessIo {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    closeAll(handedOver);
    logger?.closeWriteEnds();
    if (stdin) closeAll([stdin.pipeRead]);
  };
  let sink: ReturnType<typeof writableFd> | undefined;
  let source: StdinSource | undefined;
  let stdinClosed = false;
  return {
    stdio: fds,
    started() {
      release();
      if (!stdin || sink) return;
      // The FIFO is opened only now, as containerd's shim does: a client that finished
      // writing stdin before the task was created has not sent CloseIO yet.
      sink = writableFd(stdin.pipeWrite);
      try {
        source = openStdinSource(stdin.path);
      } catch {
        sink.destroy();
        return;
      }
      if (stdinClosed) source.closeHolder();
      // The pipe's write end closes when the FIFO reaches end of file: the process reads EOF.
      source.stream.pipe(sink);
    },
    closeStdin() {
      stdinClosed = true;
      source?.closeHolder();
    },
    async close() {
      release();
      if (stdin) {
        source?.close();
        if (sink) sink.destroy();
        else closeAll([stdin.pipeWrite]);
      }
      await logger?.stop();
    },
  };
}
