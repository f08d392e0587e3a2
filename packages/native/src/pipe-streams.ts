import { Socket } from "node:net";

/** What a pipe's read end delivered; see readPipe. */
export interface PipeReader {
  /** Everything read (within the budget) once the pipe reaches end of file or `stop` is called. */
  readonly data: Promise<Buffer>;
  /** Stops reading and closes the read end; `data` settles with what came so far. */
  stop(): void;
}

/**
 * Reads a pipe's read end (taking it over: it is closed at the end) through the event loop,
 * not thread-pool reads. Keeps at most `budget.left` bytes, a budget several pipes may share.
 */
export function readPipe(fd: number, budget: { left: number } = { left: Number.POSITIVE_INFINITY }): PipeReader {
  const socket = new Socket({ fd, readable: true, writable: false });
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => {
    if (chunk.length <= budget.left) chunks.push(chunk);
    budget.left -= chunk.length;
  });
  socket.on("error", () => undefined); // a reader stopped under a pending read
  const data = new Promise<Buffer>((resolve) => socket.once("close", () => resolve(Buffer.concat(chunks))));
  return { data, stop: () => socket.destroy() };
}

/**
 * Writes `data` into a pipe's write end (taking it over) and closes it. Settles once written or
 * once the reader went away: a program that exits without reading its stdin is no error here.
 */
export function writePipe(fd: number, data: Uint8Array | string): Promise<void> {
  const socket = new Socket({ fd, readable: false, writable: true });
  return new Promise((resolve) => {
    socket.on("error", () => resolve());
    socket.on("close", () => resolve());
    socket.end(data, () => resolve());
  });
}
