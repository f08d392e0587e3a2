import { binding } from "./binding.js";
import { systemError } from "./system-error.js";

/** One new regular file (or, with `symlink`, symbolic link) for `createFiles`. */
export interface NewFile {
  /** Absolute path, as bytes (names need not be UTF-8); must not exist yet. */
  readonly path: Buffer;
  /** Permission bits (with setuid/setgid/sticky when `chmod`). */
  readonly mode: number;
  /** Set ownership with fchown (after open, before the data). */
  readonly owner?: { readonly uid: number; readonly gid: number } | undefined;
  /** fchmod to `mode` after the data: for special bits, or bits the umask would clear. */
  readonly chmod?: boolean | undefined;
  /** The file's bytes; a symlink's target. */
  readonly data: Uint8Array;
  /** A symbolic link to `data` instead of a file (`mode` and `chmod` unused); owner and times set without following it. */
  readonly symlink?: boolean | undefined;
  /** Whole seconds. */
  readonly atime: number;
  readonly mtime: number;
}

const FIELDS = 9;

/**
 * Creates `files` in one thread-pool job, each with open(O_CREAT|O_EXCL|O_NOFOLLOW), fchown,
 * write, fchmod, futimens, close (a symlink: symlink, lchown, utimensat without following it),
 * and resolves with each file's outcome: undefined, or the
 * error that stopped it (Node-style code, errno and path; syscall "create"). A file that fails
 * is left as far as it got; on EEXIST what was there is untouched.
 */
export async function createFiles(files: readonly NewFile[]): Promise<(Error | undefined)[]> {
  const meta = new Float64Array(files.length * FIELDS);
  const paths: Buffer[] = [];
  const data: Uint8Array[] = [];
  let pathAt = 0;
  let dataAt = 0;
  for (const [i, f] of files.entries()) {
    const m = i * FIELDS;
    meta[m] = pathAt;
    meta[m + 1] = dataAt;
    meta[m + 2] = f.data.byteLength;
    meta[m + 3] = f.mode;
    meta[m + 4] = f.owner?.uid ?? 0;
    meta[m + 5] = f.owner?.gid ?? 0;
    meta[m + 6] = (f.owner ? 1 : 0) | (f.chmod ? 2 : 0) | (f.symlink ? 4 : 0);
    meta[m + 7] = f.atime;
    meta[m + 8] = f.mtime;
    paths.push(f.path, NUL);
    pathAt += f.path.length + 1;
    data.push(f.data);
    dataAt += f.data.byteLength;
  }
  const results = new Int32Array(files.length);
  await binding.createFiles(Buffer.concat(paths), meta, Buffer.concat(data), results);
  return files.map((f, i) => (results[i] === 0 ? undefined : systemError(results[i]!, "create", f.path)));
}

const NUL = Buffer.from([0]);
