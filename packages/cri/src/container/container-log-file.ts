import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * The file at a container's log_path, shared by its stdout and stderr. Each entry is one write,
 * so lines of the two streams never interleave inside an entry. ReopenContainerLog (after the
 * kubelet rotated the file) swaps in a fresh handle; entries written meanwhile go to the old
 * file, as with containerd.
 */
export interface ContainerLogFile {
  write(entry: Buffer): void;
  reopen(): Promise<void>;
  close(): Promise<void>;
}

/** A log file that drops everything: the kubelet gave no log path. */
export const DISCARD_LOG: ContainerLogFile = { write: () => {}, reopen: async () => {}, close: async () => {} };

export async function openContainerLog(path: string): Promise<ContainerLogFile> {
  if (path === "") return DISCARD_LOG;
  let stream = await openAppend(path);
  return {
    write(entry) {
      stream.write(entry);
    },
    async reopen() {
      const fresh = await openAppend(path);
      const old = stream;
      stream = fresh;
      await endStream(old);
    },
    close: () => endStream(stream),
  };
}

async function openAppend(path: string): Promise<WriteStream> {
  // The kubelet makes the pod's log directory, but crictl and tests may not: make it as containerd does.
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const stream = createWriteStream(path, { flags: "a", mode: 0o640 });
  stream.on("error", () => {});
  await Promise.race([once(stream, "open"), once(stream, "error").then(([err]) => Promise.reject(err as Error))]);
  return stream;
}

async function endStream(stream: WriteStream): Promise<void> {
  if (stream.closed || stream.destroyed) return;
  await new Promise<void>((resolve) => stream.end(() => resolve()));
}
