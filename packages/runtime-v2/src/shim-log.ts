import { constants, openSync } from "node:fs";
import { Socket } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Logger } from "@berth/core";
import { mkfifo } from "@berth/native";

/** The tail of a shim's log kept for error messages. */
const KEPT_LINES = 20;

/** A shim's log pipe as the daemon reads it. */
export interface ShimLog {
  /** The last lines the shim logged, for errors that should say why. */
  tail(): string;
  close(): void;
}

/**
 * Opens the bundle's `log` FIFO for reading (creating it), as containerd does before starting a
 * shim: Go shims open it for writing at start and block until a reader is there. It is opened
 * read-write and non-blocking, so neither side waits for the other and the pipe never reports
 * end-of-file between shim restarts. Each line goes to `log`.
 */
export function openShimLog(bundlePath: string, log: Logger): ShimLog {
  const path = join(bundlePath, "log");
  try {
    mkfifo(path, 0o700);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  // Opening a FIFO read-write never blocks. The socket takes the fd over (and closes it): a pipe
  // in a net.Socket is read through the event loop, not by thread-pool reads that would block.
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  const socket = new Socket({ fd, readable: true, writable: false });
  const lines: string[] = [];
  const reader = createInterface({ input: socket, crlfDelay: Infinity });
  reader.on("line", (line) => {
    lines.push(line);
    if (lines.length > KEPT_LINES) lines.shift();
    log.debug("shim log", { line });
  });
  socket.on("error", () => undefined); // closing the pipe under a pending read is expected
  let closed = false;
  return {
    tail: () => lines.join("\n"),
    close() {
      if (closed) return;
      closed = true;
      reader.close();
      socket.destroy();
    },
  };
}
