import { closeSync, constants, openSync, statSync } from "node:fs";
import { Socket } from "node:net";

/**
 * A process's output target opened for the process to write to directly. A FIFO is opened
 * read-write: that never blocks (waiting for a reader), and a pipe with a reader held open
 * never fails the writer with EPIPE when the client detaches, as containerd's shims keep
 * their FIFOs open. A regular file is appended to.
 */
export function openOutput(path: string): number {
  const fifo = statSync(path).isFIFO();
  return openSync(path, fifo ? constants.O_RDWR : constants.O_WRONLY | constants.O_APPEND);
}

export function openDevNull(): number {
  return openSync("/dev/null", constants.O_RDWR);
}

/**
 * The client's stdin FIFO as a readable stream, plus a write end the shim holds so the stream
 * does not end when a client closes its side and reattaches. Closing the holder (CloseIO)
 * lets end of file through once the client has closed too.
 */
export interface StdinSource {
  readonly stream: Socket;
  closeHolder(): void;
  close(): void;
}

export function openStdinSource(path: string): StdinSource {
  // Read side first: opening a FIFO for writing without blocking needs a reader.
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let holder: number | undefined;
  try {
    holder = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    closeSync(readFd);
    throw err;
  }
  const stream = new Socket({ fd: readFd, readable: true, writable: false });
  stream.on("error", () => {});
  const closeHolder = () => {
    if (holder === undefined) return;
    closeSync(holder);
    holder = undefined;
  };
  return {
    stream,
    closeHolder,
    close() {
      closeHolder();
      stream.destroy();
    },
  };
}

/** A pipe or FIFO descriptor as a writable stream; write errors (the reader left) end it quietly. */
export function writableFd(fd: number): Socket {
  const socket = new Socket({ fd, readable: false, writable: true });
  socket.on("error", () => socket.destroy());
  return socket;
}

/** Closes descriptors, ignoring ones already closed. */
export function closeAll(fds: Iterable<number>): void {
  for (const fd of new Set(fds)) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
}
