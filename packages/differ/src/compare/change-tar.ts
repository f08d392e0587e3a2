import { closeSync, constants, lstatSync, openSync, readSync, readlinkSync, type BigIntStats } from "node:fs";
import { majorOf, minorOf } from "../dev-numbers.js";
import type { TarEntry, TarEntryType } from "../tar/tar-entry.js";
import { TAR_TRAILER, encodeTarHeader, tarPadding } from "../tar/tar-writer.js";
import type { Change, TreeRoot } from "./changes.js";
import { layerXattrs } from "./same-file.js";

/** Output is handed on in pieces of about this size (headers of small files are batched). */
const BATCH = 1024 * 1024;
const EPOCH = { sec: 0, nsec: 0 };

/**
 * An OCI layer tar from a stream of changes, read from the `upper` tree: deletions become
 * `.wh.<name>` entries (time 0, as containerd 2 writes them), an opaque directory is followed
 * by `.wh..wh..opq`, every entry is preceded by its parent directories, hardlinks are found by
 * inode, and times are whole seconds. Sockets are skipped: a layer cannot carry them.
 */
export async function* changesToTar(changes: Iterable<Change>, upper: TreeRoot): AsyncGenerator<Buffer> {
  const out = new Batch();
  const writtenDirs = new Set<string>([""]);
  /** First name written for a hardlinked inode, and unchanged names waiting for it. */
  const linkSource = new Map<string, string>();
  const linkWaiting = new Map<string, string[]>();

  const parents = (path: string) => {
    const missing: string[] = [];
    for (let dir = parentOf(path); !writtenDirs.has(dir); dir = parentOf(dir)) missing.push(dir);
    for (const dir of missing.reverse()) {
      out.add(encodeTarHeader(entryOf(dir, lstatSync(upper.abs(dir), { bigint: true }), upper)));
      writtenDirs.add(dir);
    }
  };

  for (const change of changes) {
    if (change.kind === "delete") {
      parents(change.path);
      out.add(encodeTarHeader(whiteout(joinName(parentOf(change.path), `.wh.${baseOf(change.path)}`))));
    } else {
      const { path, st } = change;
      if (st.isSocket()) continue;
      const key = !st.isDirectory() && st.nlink > 1n ? `${st.dev}:${st.ino}` : undefined;
      const source = key === undefined ? undefined : linkSource.get(key);
      if (change.kind === "unmodified" && (key === undefined || source === undefined)) {
        if (key !== undefined) linkWaiting.set(key, [...(linkWaiting.get(key) ?? []), path]);
        continue;
      }
      parents(path);
      if (source !== undefined) {
        out.add(encodeTarHeader(linkEntry(path, source, st)));
        continue;
      }
      const entry = entryOf(path, st, upper);
      out.add(encodeTarHeader(entry));
      if (entry.type === "dir") {
        writtenDirs.add(path);
        if (change.kind !== "unmodified" && change.opaque) out.add(encodeTarHeader(whiteout(`${path}/.wh..wh..opq`)));
      }
      if (entry.type === "file" && entry.size > 0) yield* fileData(upper.abs(path), entry.size, out);
      if (key !== undefined) {
        linkSource.set(key, path);
        for (const other of linkWaiting.get(key) ?? []) {
          parents(other);
          out.add(encodeTarHeader(linkEntry(other, path, st)));
        }
        linkWaiting.delete(key);
      }
    }
    if (out.size >= BATCH) yield out.take();
  }
  out.add(TAR_TRAILER);
  yield out.take();
}

/** A file's bytes, batched with what came before; fails if the file changed size meanwhile. */
async function* fileData(path: Buffer, size: number, out: Batch): AsyncGenerator<Buffer> {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    let left = size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(BATCH, left));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) throw new Error(`${path.toString()} shrank while it was being read`);
      out.add(n === buf.length ? buf : buf.subarray(0, n));
      left -= n;
      if (out.size >= BATCH) yield out.take();
    }
  } finally {
    closeSync(fd);
  }
  out.add(tarPadding(size));
}

function entryOf(path: string, st: BigIntStats, upper: TreeRoot): TarEntry {
  const type = typeOf(st);
  const abs = upper.abs(path);
  const rdev = Number(st.rdev);
  return {
    name: type === "dir" ? `${path}/` : path,
    type,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: type === "file" ? Number(st.size) : 0,
    mtime: { sec: Number(st.mtimeNs / 1_000_000_000n), nsec: 0 },
    linkname: type === "symlink" ? readlinkSync(abs, { encoding: "buffer" }).toString("latin1") : "",
    devmajor: type === "char" || type === "block" ? majorOf(rdev) : 0,
    devminor: type === "char" || type === "block" ? minorOf(rdev) : 0,
    xattrs: layerXattrs(abs),
  };
}

function linkEntry(path: string, source: string, st: BigIntStats): TarEntry {
  return {
    name: path,
    type: "hardlink",
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: 0,
    mtime: { sec: Number(st.mtimeNs / 1_000_000_000n), nsec: 0 },
    linkname: source,
    devmajor: 0,
    devminor: 0,
  };
}

function whiteout(name: string): TarEntry {
  return { name, type: "file", mode: 0, uid: 0, gid: 0, size: 0, mtime: EPOCH, linkname: "", devmajor: 0, devminor: 0 };
}

function typeOf(st: BigIntStats): TarEntryType {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "dir";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isCharacterDevice()) return "char";
  if (st.isBlockDevice()) return "block";
  if (st.isFIFO()) return "fifo";
  throw new Error(`cannot put a socket in a layer`);
}

const parentOf = (path: string) => {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
};
const baseOf = (path: string) => path.slice(path.lastIndexOf("/") + 1);
const joinName = (dir: string, name: string) => (dir === "" ? name : `${dir}/${name}`);

/** Small buffers gathered into one. */
class Batch {
  #parts: Buffer[] = [];
  size = 0;
  add(buf: Buffer): void {
    if (buf.length === 0) return;
    this.#parts.push(buf);
    this.size += buf.length;
  }
  take(): Buffer {
    const all = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.size);
    this.#parts = [];
    this.size = 0;
    return all;
  }
}
