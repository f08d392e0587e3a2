import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  open,
  openSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeSync,
  type Stats,
} from "node:fs";
import { BerthError, isBerthError, notFound, unknown } from "@berth/core";
import { lsetxattr, lutimesNs, mkfifo, mknod } from "@berth/native";
import type { TarEntryHandler } from "../tar/tar-parser.js";
import { bytesOf, displayName, type TarEntry, type TarTime } from "../tar/tar-entry.js";
import { majorOf, minorOf } from "../dev-numbers.js";
import { entryComponents, joinPath } from "./entry-path.js";
import { accessTimeOf, copyXattrs, modTimeOf, setTimes, setXattrs } from "./metadata.js";
import { OPAQUE_XATTR, OverlayLowers, isWhiteoutDevice } from "./overlay-lowers.js";
import { RootPaths, RootResolver, type DirInfo } from "./root-resolver.js";
import { BackgroundWrites } from "./background-writes.js";
import type { BufferHolds } from "./chunk-pool.js";
import { SmallFileBatches, type BatchedFile } from "./small-file-batches.js";

/** Where a layer goes and how its whiteouts are written. */
export interface LayerTarget {
  /** The directory the layer's entries are written into. */
  readonly root: string;
  /**
   * "remove": whiteouts delete what they name (a plain or mounted root). "overlay": `root` is
   * an overlay upper directory; whiteouts become 0:0 character devices and opaque directories
   * get trusted.overlay.opaque=y, for the kernel to apply when it mounts the stack.
   */
  readonly whiteouts: "remove" | "overlay";
  /** The overlay's lower directories, topmost first (overlay only). */
  readonly lowers?: readonly string[] | undefined;
}

const WHITEOUT_PREFIX = ".wh.";
const OPAQUE_MARKER = ".wh..wh..opq";
const SPECIAL_BITS = 0o7000;
const NEW_FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Data pieces at least this large are written on the thread pool; smaller ones synchronously,
 * where a hand-off would cost more than the write.
 */
const BACKGROUND_WRITE_MIN = 64 * 1024;

/** Regular files smaller than this (and needing no xattrs or sub-second times) are created in batches; so are such symlinks. */
const BATCHED_FILE_MAX = 64 * 1024;

/**
 * Thrown inside `#apply` when an entry would remove or replace something while batched files
 * are not all created yet: nothing was changed, and the entry is applied again after a drain.
 */
const DRAIN_FIRST = Symbol("drain the small-file batches first");

/** A small file being parsed: its data is collected, then the whole file joins a batch. */
interface SmallFile {
  readonly real: string;
  readonly entry: TarEntry;
  readonly path: Buffer;
  readonly owner: { uid: number; gid: number } | undefined;
  readonly data: Buffer;
  filled: number;
}

interface OpenFile {
  readonly fd: number;
  readonly path: Buffer;
  readonly entry: TarEntry;
  /**
   * Whether its data may be written in the background. Finishing such a file after its last
   * write uses only its descriptor, so it is right even if a later entry replaced the path
   * meanwhile; files that need path-based calls at the end (xattrs, nanosecond times) are
   * written synchronously.
   */
  readonly background: boolean;
  /** Data bytes received so far: the next piece's position. */
  written: number;
  inFlight: number;
  /** Its last byte arrived: the last background write to complete finishes it. */
  ended: boolean;
}

interface DirTimes {
  readonly real: string;
  readonly atime: TarTime;
  readonly mtime: TarTime;
}

/**
 * Applies tar entries to a directory as they stream past, with synchronous fs calls: a regular
 * file costs open(O_CREAT|O_EXCL, final mode), write, futimes, close, plus fchown/fchmod only
 * when ownership or special bits need them. Anything in the way is unlinked first (never
 * truncated: that would write through a hardlink into a lower layer and keep the old mode).
 * Directory times are restored by `finish`, deepest first, once nothing more is written in them.
 */
export class LayerApplier implements TarEntryHandler {
  readonly #paths: RootPaths;
  readonly #resolver: RootResolver;
  readonly #overlay: OverlayLowers | undefined;
  readonly #umask: number;
  readonly #euid: number;
  readonly #egid: number;
  #file: OpenFile | undefined;
  #small: SmallFile | undefined;
  readonly #batches = new SmallFileBatches();
  #dirTimes: DirTimes[] = [];
  /** Real paths this layer wrote: an opaque marker keeps them and removes the rest. */
  readonly #unpacked = new Set<string>();
  #current = "";
  readonly #writes: BackgroundWrites;

  /** `holds`: where the data pieces come from a buffer pool, keeps them from reuse while being written. */
  constructor(target: LayerTarget, umask: number, holds?: BufferHolds) {
    this.#writes = new BackgroundWrites(holds);
    this.#paths = new RootPaths(target.root);
    this.#overlay = target.whiteouts === "overlay" ? new OverlayLowers(target.lowers ?? []) : undefined;
    this.#umask = umask;
    this.#euid = process.geteuid?.() ?? 0;
    this.#egid = process.getegid?.() ?? 0;
    this.#resolver = new RootResolver(this.#paths, this.#egid, (real, parent) => this.#makeParent(real, parent));
  }

  /**
   * A hardlink waits for the background writes: it reads and sets attributes of an inode that
   * may still be an unfinished file. An entry that would replace or remove something waits
   * until the batched small files are created. Everything else goes at once.
   */
  entry(entry: TarEntry): void | Promise<void> {
    this.#current = entry.name;
    if (entry.type === "hardlink" && this.#writes.busy) {
      return this.#writes.below(0).then(() => this.entry(entry) as undefined);
    }
    if (this.#batches.backlogged) return this.#batches.waitInFlight().then(() => this.entry(entry) as undefined);
    try {
      const opening = this.#apply(entry);
      if (opening) return opening.catch((err: unknown) => this.#drainOrFail(err, entry));
    } catch (err) {
      return this.#drainOrFail(err, entry);
    }
  }

  /** DRAIN_FIRST: the entry is applied again once the batches are drained; anything else fails it. */
  #drainOrFail(err: unknown, entry: TarEntry): Promise<void> {
    if (err === DRAIN_FIRST) return this.#drainBatches().then(() => this.entry(entry) as undefined);
    throw this.#entryError(err);
  }

  data(piece: Buffer): void {
    const small = this.#small;
    if (small) {
      // Copied: the piece's buffer goes back to the decompressor before the batch runs.
      small.filled += piece.copy(small.data, small.filled);
      return;
    }
    const file = this.#file!;
    const position = file.written;
    file.written += piece.length;
    if (file.background && piece.length >= BACKGROUND_WRITE_MIN) {
      file.inFlight++;
      this.#writes.write(file.fd, piece, position, (err) => {
        file.inFlight--;
        if (err !== undefined) throw this.#entryError(err, file.entry.name);
        if (file.ended && file.inFlight === 0) this.#finishLater(file);
      });
      return;
    }
    try {
      for (let at = 0; at < piece.length; ) at += writeSync(file.fd, piece, at, piece.length - at, position + at);
    } catch (err) {
      throw this.#entryError(err);
    }
  }

  end(): void {
    const small = this.#small;
    if (small) {
      this.#small = undefined;
      this.#batches.add(this.#batched(small));
      return;
    }
    const file = this.#file;
    if (!file) return;
    this.#file = undefined;
    file.ended = true;
    if (file.inFlight > 0) return; // the last background write finishes it
    try {
      this.#finishFile(file);
    } catch (err) {
      throw this.#entryError(err);
    }
  }

  /** Resolves when the writes in flight are down to `bytes` (0: all done); rejects with the first failure. */
  async writesBelow(bytes: number): Promise<void> {
    await this.#writes.below(bytes);
  }

  get bytesInFlight(): number {
    return this.#writes.bytesInFlight;
  }

  /** Throws the first failure of a background write or of finishing its file. */
  checkWrites(): void {
    this.#writes.check();
  }

  /** After the last entry: waits for the files, then sets directory times, deepest first. */
  async finish(): Promise<void> {
    await this.#drainBatches();
    await this.#writes.below(0);
    const dirs = this.#dirTimes.sort((a, b) => depth(b.real) - depth(a.real));
    for (const d of dirs) setTimes(this.#paths.abs(d.real), d.atime, d.mtime);
  }

  /** After a failure: waits until no write or batch is in flight, then releases the open file. */
  async close(): Promise<void> {
    await this.#batches.settled();
    await this.#writes.settled();
    const file = this.#file;
    this.#file = undefined;
    if (file && file.inFlight === 0) closeSync(file.fd);
  }

  #batched(small: SmallFile): BatchedFile {
    const { entry } = small;
    return {
      real: small.real,
      name: entry.name,
      file: {
        path: small.path,
        mode: entry.mode,
        owner: small.owner,
        chmod: this.#modeNeedsChmod(entry.mode),
        data: small.data.subarray(0, small.filled),
        atime: accessTimeOf(entry).sec,
        mtime: modTimeOf(entry).sec,
      },
    };
  }

  /** A symlink left to a batch: created on the thread pool with its owner and times like a small file. */
  #batchedLink(entry: TarEntry, real: string, parent: DirInfo): BatchedFile {
    const owner = entry.uid !== this.#euid || entry.gid !== parent.gidForNew ? { uid: entry.uid, gid: entry.gid } : undefined;
    return {
      real,
      name: entry.name,
      file: { path: this.#paths.abs(real), mode: 0, symlink: true, owner, data: bytesOf(entry.linkname), atime: accessTimeOf(entry).sec, mtime: modTimeOf(entry).sec },
    };
  }

  /** Waits for the batched files; one that met something in its way replaces it now, as any entry would. */
  async #drainBatches(): Promise<void> {
    await this.#batches.drain((batched, error) => {
      this.#current = batched.name;
      if (!isCode(error, "EEXIST")) throw this.#entryError(error, batched.name);
      try {
        const { file } = batched;
        this.#remove(batched.real, lstatSync(file.path));
        if (file.symlink) {
          symlinkSync(Buffer.from(file.data.buffer, file.data.byteOffset, file.data.byteLength), file.path);
          if (file.owner) lchownSync(file.path, file.owner.uid, file.owner.gid);
          setTimes(file.path, { sec: file.atime, nsec: 0 }, { sec: file.mtime, nsec: 0 });
          return;
        }
        const fd = openSync(file.path, NEW_FILE_FLAGS, file.mode & 0o777);
        try {
          if (file.owner) fchownSync(fd, file.owner.uid, file.owner.gid);
          for (let at = 0; at < file.data.length; ) at += writeSync(fd, file.data, at, file.data.length - at, at);
          if (file.chmod) fchmodSync(fd, file.mode);
          futimesSync(fd, file.atime, file.mtime);
        } finally {
          closeSync(fd);
        }
      } catch (err) {
        throw this.#entryError(err, batched.name);
      }
    });
  }

  /** Finishes a file whose last background write completed; a failure fails the layer. */
  #finishLater(file: OpenFile): void {
    try {
      this.#finishFile(file);
    } catch (err) {
      this.#writes.fail(this.#entryError(err, file.entry.name));
    }
  }

  #apply(entry: TarEntry): void | Promise<void> {
    const parts = entryComponents(entry.name);
    if (parts.length === 0) return; // the root itself: its attributes belong to the snapshot, not the layer
    const base = parts[parts.length - 1]!;
    const parentLex = parts.slice(0, -1).join("/");
    const batchesBusy = !this.#batches.idle;
    // A file still in a batch, where this entry needs a directory, is not on disk yet: the
    // resolver would make a directory there. Created first, it is refused as any file would be.
    if (batchesBusy && this.#batches.hasAncestorOf(parentLex)) throw DRAIN_FIRST;
    const parent = this.#resolver.dir(parentLex);

    if (base.startsWith(WHITEOUT_PREFIX)) {
      if (batchesBusy) throw DRAIN_FIRST;
      this.#whiteout(entry, parent, base);
      return;
    }
    const real = joinPath(parent.real, base);
    if (batchesBusy && (entry.type === "hardlink" || this.#batches.has(real))) throw DRAIN_FIRST;
    switch (entry.type) {
      case "file": {
        if (isBatchable(entry)) {
          const owner = entry.uid !== this.#euid || entry.gid !== parent.gidForNew ? { uid: entry.uid, gid: entry.gid } : undefined;
          this.#small = { real, entry, path: this.#paths.abs(real), owner, data: Buffer.allocUnsafe(entry.size), filled: 0 };
          break;
        }
        this.#unpacked.add(real);
        return this.#openFile(entry, real, parent);
      }
      case "dir":
        this.#createDir(entry, real, parent, parts.join("/"));
        break;
      case "symlink":
        if (hasBatchableMetadata(entry)) this.#batches.add(this.#batchedLink(entry, real, parent));
        else this.#createSymlink(entry, real, parent);
        break;
      case "hardlink":
        this.#createHardlink(entry, real);
        break;
      case "char":
      case "block":
      case "fifo":
        this.#createSpecial(entry, real, parent);
        break;
    }
    this.#unpacked.add(real);
  }

  /**
   * A file too large for a batch, opened on the thread pool (creating an inode can block for a
   * millisecond on a busy ext4, and the main thread parses every layer); the parser holds its
   * data until it is open. Something in the way is replaced as for any entry, synchronously.
   */
  async #openFile(entry: TarEntry, real: string, parent: DirInfo): Promise<void> {
    const path = this.#paths.abs(real);
    let fd: number;
    try {
      fd = await openNew(path, entry.mode & 0o777);
      try {
        if (entry.uid !== this.#euid || entry.gid !== parent.gidForNew) fchownSync(fd, entry.uid, entry.gid);
      } catch (err) {
        closeSync(fd);
        throw err;
      }
    } catch (err) {
      if (!isCode(err, "EEXIST")) throw err;
      fd = this.#createFile(entry, real, parent);
    }
    const background = entry.xattrs === undefined && entry.mtime.nsec === 0 && (entry.atime?.nsec ?? 0) === 0;
    this.#file = { fd, path, entry, background, written: 0, inFlight: 0, ended: false };
  }

  #createFile(entry: TarEntry, real: string, parent: DirInfo): number {
    const path = this.#paths.abs(real);
    const fd = this.#retryAfterRemoving(real, () => openSync(path, NEW_FILE_FLAGS, entry.mode & 0o777));
    if (entry.uid !== this.#euid || entry.gid !== parent.gidForNew) fchownSync(fd, entry.uid, entry.gid);
    return fd;
  }

  #finishFile(file: OpenFile): void {
    const { fd, path, entry } = file;
    const atime = accessTimeOf(entry);
    const mtime = modTimeOf(entry);
    try {
      // After the chown (which clears setuid/setgid) and the data.
      if (this.#modeNeedsChmod(entry.mode)) fchmodSync(fd, entry.mode);
      if (atime.nsec === 0 && mtime.nsec === 0) futimesSync(fd, atime.sec, mtime.sec);
    } finally {
      closeSync(fd);
    }
    // Set after writing: a write drops security.capability.
    if (entry.xattrs) setXattrs(path, entry.xattrs, true);
    if (atime.nsec !== 0 || mtime.nsec !== 0) lutimesNs(path, atime.sec, atime.nsec, mtime.sec, mtime.nsec);
  }

  #createDir(entry: TarEntry, real: string, parent: DirInfo, lex: string): void {
    const path = this.#paths.abs(real);
    let existing: Stats | undefined;
    try {
      mkdirSync(path, entry.mode & 0o777);
    } catch (err) {
      if (!isCode(err, "EEXIST")) throw err;
      const st = lstatSync(path);
      if (st.isDirectory()) existing = st;
      else {
        if (!this.#batches.idle) throw DRAIN_FIRST;
        this.#remove(real, st);
        mkdirSync(path, entry.mode & 0o777);
      }
    }
    if (existing) {
      // Merge: the layer's attributes win, the contents stay.
      if (existing.uid !== entry.uid || existing.gid !== entry.gid) lchownSync(path, entry.uid, entry.gid);
      if ((existing.mode & 0o7777) !== entry.mode) chmodSync(path, entry.mode);
    } else {
      if (entry.uid !== this.#euid || entry.gid !== parent.gidForNew) lchownSync(path, entry.uid, entry.gid);
      // A setgid parent makes new directories setgid too.
      if (this.#modeNeedsChmod(entry.mode) || parent.setgid) chmodSync(path, entry.mode);
    }
    if (entry.xattrs) setXattrs(path, entry.xattrs, true);
    this.#resolver.remember(lex, real, entry.gid, entry.mode);
    this.#dirTimes.push({ real, atime: accessTimeOf(entry), mtime: modTimeOf(entry) });
  }

  #createSymlink(entry: TarEntry, real: string, parent: DirInfo): void {
    const path = this.#paths.abs(real);
    this.#retryAfterRemoving(real, () => symlinkSync(bytesOf(entry.linkname), path));
    if (entry.uid !== this.#euid || entry.gid !== parent.gidForNew) lchownSync(path, entry.uid, entry.gid);
    if (entry.xattrs) setXattrs(path, entry.xattrs, false);
    setTimes(path, accessTimeOf(entry), modTimeOf(entry));
  }

  #createSpecial(entry: TarEntry, real: string, parent: DirInfo): void {
    const path = this.#paths.abs(real);
    const perm = entry.mode & 0o777;
    this.#retryAfterRemoving(real, () => {
      if (entry.type === "fifo") mkfifo(path, perm);
      else mknod(path, (entry.type === "char" ? constants.S_IFCHR : constants.S_IFBLK) | perm, entry.devmajor, entry.devminor);
    });
    if (entry.uid !== this.#euid || entry.gid !== parent.gidForNew) lchownSync(path, entry.uid, entry.gid);
    if (this.#modeNeedsChmod(entry.mode)) chmodSync(path, entry.mode);
    if (entry.xattrs) setXattrs(path, entry.xattrs, false);
    setTimes(path, accessTimeOf(entry), modTimeOf(entry));
  }

  /**
   * A second name for a file already in the root. The link name is resolved like any entry
   * (inside the root, never through an escaping symlink); over an overlay upper dir, a file
   * that lives only in a lower dir is copied up first, as the kernel would do.
   */
  #createHardlink(entry: TarEntry, real: string): void {
    const parts = entryComponents(entry.linkname, "hardlink target");
    if (parts.length === 0) throw notFound(`hardlink target "${displayName(entry.linkname)}" is the root`);
    const lexDir = parts.slice(0, -1).join("/");
    const dir = this.#overlay ? this.#resolver.dir(lexDir) : this.#resolver.lookup(lexDir);
    const target = dir && joinPath(dir.real, parts[parts.length - 1]!);
    const st = target === undefined ? undefined : this.#existingOrCopiedUp(target);
    if (target === undefined || !st) throw notFound(`hardlink target "${displayName(entry.linkname)}" does not exist in the layer or below it`);
    const path = this.#paths.abs(real);
    const targetPath = this.#paths.abs(target);
    if (target === real) return; // a link to itself: already there
    this.#retryAfterRemoving(real, () => linkSync(targetPath, path));
    // Like containerd, the header's attributes apply to the (shared) inode.
    const chown = st.uid !== entry.uid || st.gid !== entry.gid;
    if (chown) lchownSync(path, entry.uid, entry.gid);
    // A chown clears setuid/setgid: set the mode after it.
    if (!st.isSymbolicLink() && (chown || (st.mode & 0o7777) !== entry.mode)) chmodSync(path, entry.mode);
    if (entry.xattrs) setXattrs(path, entry.xattrs, st.isFile());
    setTimes(path, accessTimeOf(entry), modTimeOf(entry));
  }

  #existingOrCopiedUp(real: string): Stats | undefined {
    const path = this.#paths.abs(real);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (st && !(this.#overlay && isWhiteoutDevice(st))) return st;
    if (!this.#overlay || (st && isWhiteoutDevice(st))) return undefined;
    const below = this.#overlay.find(real);
    if (!below || below.st.isDirectory()) return undefined;
    copyUp(below.path, below.st, path);
    return lstatSync(path);
  }

  #whiteout(entry: TarEntry, parent: DirInfo, base: string): void {
    if (base === OPAQUE_MARKER) {
      if (this.#overlay) lsetxattr(this.#paths.abs(parent.real), OPAQUE_XATTR, Buffer.from("y"));
      else this.#clearExceptUnpacked(parent.real);
      return;
    }
    if (base.startsWith(WHITEOUT_PREFIX + WHITEOUT_PREFIX)) return; // other AUFS metadata: nothing to do
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === "" || name === "." || name === "..") {
      throw new BerthError("InvalidArgument", `whiteout "${displayName(base)}" names no entry of its directory`);
    }
    const real = joinPath(parent.real, name);
    const path = this.#paths.abs(real);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (st) this.#remove(real, st);
    if (this.#overlay) {
      mknod(path, constants.S_IFCHR, 0, 0);
      if (entry.uid !== this.#euid || entry.gid !== parent.gidForNew) lchownSync(path, entry.uid, entry.gid);
    }
  }

  /** An opaque directory without overlay: everything in it not written by this layer goes. */
  #clearExceptUnpacked(dirReal: string): void {
    const names = readdirSync(this.#paths.abs(dirReal), { encoding: "buffer" });
    for (const raw of names) {
      const real = joinPath(dirReal, raw.toString("latin1"));
      const st = lstatSync(this.#paths.abs(real));
      if (!this.#unpacked.has(real)) this.#remove(real, st);
      else if (st.isDirectory()) this.#clearExceptUnpacked(real);
    }
  }

  /**
   * Runs `create`; if something is in the way, removes it and runs `create` again (once the
   * batched files are all created: a removal could take one of their directories).
   */
  #retryAfterRemoving<T>(real: string, create: () => T): T {
    try {
      return create();
    } catch (err) {
      if (!isCode(err, "EEXIST")) throw err;
      if (!this.#batches.idle) throw DRAIN_FIRST;
      this.#remove(real, lstatSync(this.#paths.abs(real)));
      return create();
    }
  }

  #remove(real: string, st: Stats): void {
    const path = this.#paths.abs(real);
    if (st.isDirectory()) {
      rmSync(path, { recursive: true, force: true });
      const inside = `${real}/`;
      this.#dirTimes = this.#dirTimes.filter((d) => d.real !== real && !d.real.startsWith(inside));
      this.#resolver.forget();
    } else {
      unlinkSync(path);
      if (st.isSymbolicLink()) this.#resolver.forget();
    }
  }

  /** A missing parent directory: 0755 root-owned, or, over an overlay, a copy of the one below. */
  #makeParent(real: string, parent: DirInfo): DirInfo {
    const path = this.#paths.abs(real);
    const template = this.#overlay?.dirTemplate(real);
    if (!template) {
      // As containerd: a setgid parent's group and bit carry over.
      mkdirSync(path, 0o755);
      if (this.#modeNeedsChmod(0o755)) chmodSync(path, parent.setgid ? 0o2755 : 0o755);
      return this.#resolver.infoAt(real);
    }
    const { st } = template;
    mkdirSync(path, st.mode & 0o777);
    lchownSync(path, st.uid, st.gid);
    chmodSync(path, st.mode & 0o7777);
    copyXattrs(template.path, path, (name) => name.startsWith("trusted."));
    setTimes(path, { sec: Math.floor(st.atimeMs / 1000), nsec: 0 }, { sec: Math.floor(st.mtimeMs / 1000), nsec: 0 });
    return this.#resolver.infoAt(real);
  }

  /** True when open/mkdir/mknod alone would not leave exactly `mode`. */
  #modeNeedsChmod(mode: number): boolean {
    return (mode & SPECIAL_BITS) !== 0 || (mode & this.#umask) !== 0;
  }

  #entryError(err: unknown, name = this.#current): BerthError {
    const message = `entry "${displayName(name)}": ${err instanceof Error ? err.message : String(err)}`;
    return isBerthError(err) ? new BerthError(err.errClass, message, { cause: err }) : unknown(message, err);
  }
}

/** Copies a lower file into the upper dir with its attributes (copy-up for a hardlink). */
function copyUp(src: Buffer, st: Stats, dst: Buffer): void {
  if (st.isFile()) copyFileSync(src, dst, constants.COPYFILE_EXCL);
  else if (st.isSymbolicLink()) symlinkSync(readlinkSync(src, { encoding: "buffer" }), dst);
  else if (st.isFIFO()) mkfifo(dst, st.mode & 0o777);
  else mknod(dst, st.mode & (constants.S_IFMT | 0o777), majorOf(st.rdev), minorOf(st.rdev));
  lchownSync(dst, st.uid, st.gid);
  if (!st.isSymbolicLink()) chmodSync(dst, st.mode & 0o7777);
  copyXattrs(src, dst, (name) => name.startsWith("trusted.overlay."));
  const bst = lstatSync(src, { bigint: true });
  const ns = (t: bigint) => ({ sec: Number(t / 1_000_000_000n), nsec: Number(t % 1_000_000_000n) });
  setTimes(dst, ns(bst.atimeNs), ns(bst.mtimeNs));
}


/** open(O_CREAT|O_EXCL|O_NOFOLLOW) on the thread pool. */
function openNew(path: Buffer, mode: number): Promise<number> {
  return new Promise((resolve, reject) => open(path, NEW_FILE_FLAGS, mode, (err, fd) => (err ? reject(err) : resolve(fd))));
}

/** What a batch can give an entry: no xattrs (set by path afterwards), whole-second times. */
function hasBatchableMetadata(entry: TarEntry): boolean {
  return entry.xattrs === undefined && entry.mtime.nsec === 0 && (entry.atime?.nsec ?? 0) === 0;
}

/** A regular file small enough for a batch, with nothing to set that createFiles does not. */
function isBatchable(entry: TarEntry): boolean {
  return entry.size < BATCHED_FILE_MAX && hasBatchableMetadata(entry);
}

function depth(real: string): number {
  let n = 0;
  for (let i = 0; i < real.length; i++) if (real.charCodeAt(i) === 0x2f) n++;
  return n;
}

function isCode(err: unknown, code: string): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === code;
}
