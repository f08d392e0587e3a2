import { closeSync, constants, openSync } from "node:fs";
import { rm } from "node:fs/promises";
import { Socket } from "node:net";
import { createFifoSet, type FifoSet, type StdioPaths } from "./fifo-set.js";

/** Where a process's standard streams come from and go to, on the client's side. */
export interface ProcessStreams {
  readonly stdin?: NodeJS.ReadableStream | undefined;
  readonly stdout?: NodeJS.WritableStream | undefined;
  readonly stderr?: NodeJS.WritableStream | undefined;
  /** One terminal: stdout carries both output streams, stdin is the keyboard. */
  readonly terminal?: boolean | undefined;
  /** Directory for the FIFO directories; /run/berth/fifo by default. */
  readonly fifoDir?: string | undefined;
}

/**
 * A process's IO as the client copies it, after containerd's pkg/cio: FIFOs in a private
 * directory, copied to and from the caller's streams, removed when the process is deleted.
 */
export interface ProcessIo {
  /** The paths sent in Create/Exec. */
  readonly config: StdioPaths;
  /**
   * The daemon has the process (Create or Exec returned): stdin starts flowing, and when it
   * ends `onStdinEnd` runs (ctr then calls CloseIO).
   */
  attached(onStdinEnd: () => void): void;
  /**
   * The process was started: from now on output ends when the shim closes its side. Until
   * then the client holds a writer of its own, so an output FIFO does not read as ended
   * before the shim has opened it.
   */
  started(): void;
  /** Resolves once all output is copied: the shim closed its side of every output FIFO. */
  wait(): Promise<void>;
  /** Stops copying now, leaving the FIFOs (a detached process keeps them). */
  cancel(): void;
  /** Stops copying and removes the FIFOs and their directory. */
  close(): Promise<void>;
}

/** IO with no streams at all: the shim connects the process to /dev/null. */
export const NULL_IO: ProcessIo = {
  config: { stdin: "", stdout: "", stderr: "", terminal: false },
  attached: () => {},
  started: () => {},
  wait: async () => {},
  cancel: () => {},
  close: async () => {},
};

/** Creates the FIFOs for process `id` and starts copying between them and `streams`. */
export async function createFifoIo(id: string, streams: ProcessStreams): Promise<ProcessIo> {
  const fifos = await createFifoSet(id, {
    root: streams.fifoDir,
    terminal: streams.terminal,
    stdin: streams.stdin !== undefined,
    stdout: streams.stdout !== undefined,
    stderr: streams.stderr !== undefined,
  });
  try {
    return openFifoIo(fifos, streams);
  } catch (err) {
    await rm(fifos.dir, { recursive: true, force: true });
    throw err;
  }
}

function openFifoIo(fifos: FifoSet, streams: ProcessStreams): ProcessIo {
  const sockets: Socket[] = [];
  const placeholders: number[] = [];
  const outputsDone: Promise<void>[] = [];

  const releasePlaceholders = () => {
    for (const fd of placeholders.splice(0)) closeSync(fd);
  };

  const copyOut = (path: string, to: NodeJS.WritableStream | undefined) => {
    if (!path || !to) return;
    // Non-blocking opens never wait for the other side; reads then wait in the event loop.
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    placeholders.push(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
    const socket = new Socket({ fd, readable: true, writable: false });
    sockets.push(socket);
    outputsDone.push(
      new Promise<void>((resolve) => {
        socket.on("error", () => resolve());
        socket.on("close", () => resolve());
      }),
    );
    socket.pipe(to, { end: false });
  };

  let stdinSocket: Socket | undefined;
  if (fifos.stdin && streams.stdin) {
    // Read-write: the open cannot block or fail for want of a reader, and data written before
    // the shim opens its side waits in the pipe.
    stdinSocket = new Socket({ fd: openSync(fifos.stdin, constants.O_RDWR | constants.O_NONBLOCK), readable: false, writable: true });
    stdinSocket.on("error", () => {});
    sockets.push(stdinSocket);
  }
  try {
    copyOut(fifos.stdout, streams.stdout);
    copyOut(fifos.stderr, streams.stderr);
  } catch (err) {
    releasePlaceholders();
    for (const s of sockets) s.destroy();
    throw err;
  }

  let stdinSource: NodeJS.ReadableStream | undefined;
  let isStarted = false;
  const afterStart: (() => void)[] = [];
  const whenStarted = (fn: () => void) => (isStarted ? fn() : afterStart.push(fn));
  const cancel = () => {
    releasePlaceholders();
    if (stdinSource && stdinSocket) stdinSource.unpipe(stdinSocket);
    for (const s of sockets) s.destroy();
  };
  return {
    config: { stdin: fifos.stdin, stdout: fifos.stdout, stderr: fifos.stderr, terminal: fifos.terminal },
    attached(onStdinEnd) {
      if (!stdinSocket || !streams.stdin || stdinSource) return;
      stdinSource = streams.stdin;
      const socket = stdinSocket;
      // Not ended with end(): a write-only socket destroys itself (closing the FIFO) when ended.
      // And a shim may open its side only when the process starts (runc's shim does for exec):
      // closing ours before then would drop what is still in the pipe.
      stdinSource.pipe(socket, { end: false });
      stdinSource.once("end", () => {
        // A write's callback runs once everything written before it is in the pipe.
        socket.write(Buffer.alloc(0), () =>
          whenStarted(() => {
            socket.destroy();
            onStdinEnd();
          }),
        );
      });
    },
    started() {
      releasePlaceholders();
      isStarted = true;
      for (const fn of afterStart.splice(0)) fn();
    },
    wait: async () => {
      await Promise.all(outputsDone);
    },
    cancel,
    async close() {
      cancel();
      await rm(fifos.dir, { recursive: true, force: true });
    },
  };
}
