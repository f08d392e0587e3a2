import { constants } from "node:fs";
import { lstat, open, readlink, type FileHandle } from "node:fs/promises";
import { classOf, invalidArgument, isBerthError, unknown as unknownError } from "@berth/core";

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;

/** Linux's own limit on symlinks followed in one lookup. */
const MAX_SYMLINKS = 40;

/** /etc/passwd and /etc/group stay far below this; a bigger file is refused, not read into memory. */
export const MAX_ROOT_FILE_BYTES = 10 * 1024 * 1024;

// A path under an open directory, resolved by the kernel from that directory: the walk below holds
// each directory open, so swapping a directory for a symlink after it was checked changes nothing.
// (libuv opens everything close-on-exec.)
const under = (dir: FileHandle, name: string) => `/proc/self/fd/${dir.fd}/${name}`;

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/**
 * Opens the regular file `path` of the directory tree `root` as if `root` were "/": every symlink
 * on the way, absolute or with "..", is resolved inside `root`, so an image's
 * `/etc/passwd -> /etc/passwd` (or `../../../etc/passwd`) reads the image's file, never the
 * host's. Returns undefined when the file does not exist; FIFOs, devices and directories are
 * refused (a FIFO would block the read forever).
 */
export async function openInRoot(root: string, path: string, signal?: AbortSignal): Promise<FileHandle | undefined> {
  const dirs: FileHandle[] = [await open(root, O_RDONLY | O_DIRECTORY)];
  const closeAbove = async (depth: number) => {
    for (const dir of dirs.splice(depth)) await dir.close();
  };
  try {
    const pending = path.split("/");
    let links = 0;
    while (pending.length > 0) {
      signal?.throwIfAborted();
      const part = pending.shift() as string;
      if (part === "" || part === ".") continue;
      if (part === "..") {
        if (dirs.length > 1) await closeAbove(dirs.length - 1); // ".." at the root stays there
        continue;
      }
      const dir = dirs[dirs.length - 1] as FileHandle;
      const here = under(dir, part);
      let st;
      try {
        st = await lstat(here);
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
      if (st.isSymbolicLink()) {
        if (++links > MAX_SYMLINKS) throw invalidArgument(`${path} in ${root}: too many levels of symbolic links`);
        const target = await readlink(here);
        if (target.startsWith("/")) await closeAbove(1);
        pending.unshift(...target.split("/"));
        continue;
      }
      const last = pending.every((p) => p === "" || p === ".");
      if (!last) {
        if (!st.isDirectory()) return undefined; // ENOTDIR: as missing
        dirs.push(await open(here, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
        continue;
      }
      if (!st.isFile()) throw invalidArgument(`${path} in ${root} is not a regular file`);
      // O_NOFOLLOW: had it become a symlink since lstat, the open fails instead of following it.
      const file = await open(here, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
      if (!(await file.stat()).isFile()) {
        await file.close();
        throw invalidArgument(`${path} in ${root} is not a regular file`);
      }
      return file;
    }
    throw invalidArgument(`${path} in ${root} names a directory, not a file`);
  } finally {
    await closeAbove(0);
  }
}

/** The text of `path` inside `root` (see openInRoot), or undefined when there is no such file. */
export async function readTextInRoot(
  root: string,
  path: string,
  opts: { signal?: AbortSignal | undefined; maxBytes?: number } = {},
): Promise<string | undefined> {
  const maxBytes = opts.maxBytes ?? MAX_ROOT_FILE_BYTES;
  const file = await openInRoot(root, path, opts.signal).catch((err: unknown) => {
    // Anything but our own errors and cancellation (EACCES, ELOOP from a racing swap, …) as errdefs.
    if (isBerthError(err) || classOf(err) === "Canceled") throw err;
    throw unknownError(`reading ${path} in ${root}: ${(err as Error).message}`, err);
  });
  if (!file) return undefined;
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      opts.signal?.throwIfAborted();
      const chunk = Buffer.alloc(64 * 1024);
      const { bytesRead } = await file.read(chunk, 0, chunk.length, total);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw invalidArgument(`${path} in ${root} is larger than ${maxBytes} bytes`);
    }
    return Buffer.concat(chunks).toString("utf8");
  } finally {
    await file.close();
  }
}
