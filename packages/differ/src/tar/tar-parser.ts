import { parsePaxNumber, parsePaxRecords, parsePaxTime } from "./pax-records.js";
import type { TarEntry, TarEntryType, TarTime } from "./tar-entry.js";
import { BLOCK, TarFormatError, TarUnsupportedError, checksumOf, isZeroBlock, paddingOf, readNumber, readString, F } from "./ustar-fields.js";

/**
 * Receives a tar stream's entries, synchronously, as the parser meets them: `entry`, then the
 * entry's data in pieces (views into the pushed chunks: valid as long as the pusher leaves
 * those chunks alone), then `end`. Throwing from any of them aborts the parse. An `entry` that
 * returns a promise pauses the parser after that entry until the promise settles (see `push`).
 */
export interface TarEntryHandler {
  entry(entry: TarEntry): void | Promise<void>;
  data(piece: Buffer): void;
  end(): void;
}

/** Extension data kept in memory (PAX records, GNU long names): far above real use. */
const MAX_EXTENSION_BYTES = 16 * 1024 * 1024;

const TYPES: Record<string, TarEntryType> = {
  "0": "file",
  "\0": "file",
  "7": "file", // contiguous file: a regular file everywhere that matters
  "1": "hardlink",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "dir",
  "6": "fifo",
};

type State = "header" | "extension" | "data" | "padding" | "done";

/**
 * A streaming tar reader: ustar, GNU (long names 'L'/'K', base-256 numbers) and PAX ('x' per
 * entry, 'g' global; path, linkpath, size, uid, gid, mtime, atime with fractions,
 * SCHILY.xattr.* and LIBARCHIVE.xattr.*). Push chunks of any size; call `finish` at the end of
 * the stream, which fails if it stopped inside an entry.
 */
export class TarParser {
  #state: State = "header";
  readonly #header = Buffer.alloc(BLOCK);
  #headerFill = 0;
  #zeroBlocks = 0;
  /** Data bytes left in the current entry or extension; padding bytes left after it. */
  #remaining = 0;
  #padding = 0;
  #extType = "";
  #extParts: Buffer[] = [];
  #extFill = 0;
  /** Overrides collected from extension headers for the next entry. */
  #pax: Map<string, Buffer> | undefined;
  #global = new Map<string, Buffer>();
  #longName: string | undefined;
  #longLink: string | undefined;
  /** Set when a handler asked to pause: `push` stops at the entry and hands this back. */
  #pause: Promise<void> | undefined;

  constructor(private readonly handler: TarEntryHandler) {}

  /** True once the end-of-archive marker was read; later bytes are ignored. */
  get done(): boolean {
    return this.#state === "done";
  }

  /**
   * Parses `chunk`. Returns undefined once it is consumed, or, when an entry handler returned a
   * promise, a promise that settles once that one has and the rest of the chunk is parsed:
   * await it before pushing more.
   */
  push(chunk: Buffer): Promise<void> | undefined {
    const at = this.#consume(chunk);
    const pause = this.#pause;
    if (pause === undefined) return undefined;
    this.#pause = undefined;
    return pause.then(() => (at < chunk.length ? this.push(chunk.subarray(at)) : undefined));
  }

  /** Parses from the start of `chunk` until its end or a pause; returns the bytes consumed. */
  #consume(chunk: Buffer): number {
    let at = 0;
    while (at < chunk.length && this.#pause === undefined) {
      switch (this.#state) {
        case "header": {
          if (this.#headerFill === 0 && chunk.length - at >= BLOCK) {
            this.#onHeader(chunk.subarray(at, at + BLOCK));
            at += BLOCK;
          } else {
            const n = Math.min(BLOCK - this.#headerFill, chunk.length - at);
            chunk.copy(this.#header, this.#headerFill, at, at + n);
            this.#headerFill += n;
            at += n;
            if (this.#headerFill === BLOCK) {
              this.#headerFill = 0;
              this.#onHeader(this.#header);
            }
          }
          break;
        }
        case "data": {
          const n = Math.min(this.#remaining, chunk.length - at);
          this.handler.data(chunk.subarray(at, at + n));
          at += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#endEntry();
          break;
        }
        case "extension": {
          const n = Math.min(this.#remaining, chunk.length - at);
          this.#extParts.push(Buffer.from(chunk.subarray(at, at + n))); // copied: chunks are reused
          this.#extFill += n;
          at += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#endExtension();
          break;
        }
        case "padding": {
          const n = Math.min(this.#padding, chunk.length - at);
          at += n;
          this.#padding -= n;
          if (this.#padding === 0) this.#state = "header";
          break;
        }
        case "done":
          return chunk.length;
      }
    }
    return at;
  }

  /** Call at the end of the stream: fails on a truncated archive. */
  finish(): void {
    if (this.#state === "done") return;
    if (this.#state === "header" && this.#headerFill === 0 && !this.#pendingExtension()) {
      this.#state = "done"; // EOF at a block boundary without the zero blocks: accepted, as Go does
      return;
    }
    throw new TarFormatError("unexpected end of the tar stream");
  }

  #pendingExtension(): boolean {
    return this.#pax !== undefined || this.#longName !== undefined || this.#longLink !== undefined;
  }

  #onHeader(block: Buffer): void {
    if (isZeroBlock(block)) {
      if (++this.#zeroBlocks === 2) this.#state = "done";
      return;
    }
    if (this.#zeroBlocks > 0) throw new TarFormatError("a tar header after an end-of-archive block");
    const stored = readNumber(block, "chksum");
    const sum = checksumOf(block);
    if (stored !== sum.unsigned && stored !== sum.signed) throw new TarFormatError("tar header checksum mismatch");
    const flag = String.fromCharCode(block[F.typeflag[0]]!);
    const size = readNumber(block, "size");
    if (size < 0) throw new TarFormatError("negative entry size");
    switch (flag) {
      case "x":
      case "g":
      case "L":
      case "K":
        if (size > MAX_EXTENSION_BYTES) throw new TarFormatError(`extension header '${flag}' of ${size} bytes is too large`);
        this.#extType = flag;
        this.#startBody(size, "extension");
        return;
    }
    const type = TYPES[flag];
    if (type === undefined) {
      throw new TarUnsupportedError(`unsupported tar entry type '${printable(flag)}' for "${readString(block, "name")}"`);
    }
    const entry = this.#entryOf(block, type, size);
    const pause = this.handler.entry(entry);
    if (pause instanceof Promise) {
      // The body waits for the handler, and so does the end of an empty entry: ended before
      // the handler had taken it, an empty file would never be created.
      this.#pause = pause.then(() => this.#startBody(entry.size, "data"));
      return;
    }
    this.#startBody(entry.size, "data");
  }

  /** Enters `state` for `size` body bytes (then their padding), or ends the entry at once. */
  #startBody(size: number, state: "data" | "extension"): void {
    this.#remaining = size;
    this.#padding = paddingOf(size);
    if (size > 0) {
      this.#state = state;
      return;
    }
    if (state === "data") this.#endEntry();
    else this.#endExtension();
  }

  #endEntry(): void {
    this.handler.end();
    this.#state = this.#padding > 0 ? "padding" : "header";
  }

  #endExtension(): void {
    const data = this.#extParts.length === 1 ? this.#extParts[0]! : Buffer.concat(this.#extParts, this.#extFill);
    this.#extParts = [];
    this.#extFill = 0;
    switch (this.#extType) {
      case "x":
        this.#pax = new Map([...(this.#pax ?? []), ...parsePaxRecords(data)]);
        break;
      case "g":
        for (const [key, value] of parsePaxRecords(data)) {
          if (value.length === 0) this.#global.delete(key);
          else this.#global.set(key, value);
        }
        break;
      case "L":
        this.#longName = cString(data);
        break;
      case "K":
        this.#longLink = cString(data);
        break;
    }
    this.#state = this.#padding > 0 ? "padding" : "header";
  }

  #entryOf(block: Buffer, type: TarEntryType, headerSize: number): TarEntry {
    const magic = readString(block, "magic");
    const ustar = magic === "ustar" && readString(block, "version") === "00"; // POSIX: has a prefix field
    let name = readString(block, "name");
    if (ustar) {
      const prefix = readString(block, "prefix");
      if (prefix !== "") name = `${prefix}/${name}`;
    }
    let linkname = readString(block, "linkname");
    let size = headerSize;
    let uid = readNumber(block, "uid");
    let gid = readNumber(block, "gid");
    let mtime: TarTime = { sec: readNumber(block, "mtime"), nsec: 0 };
    let atime: TarTime | undefined;
    let xattrs: Map<string, Buffer> | undefined;
    const hasDevice = type === "char" || type === "block";
    let devmajor = hasDevice ? readNumber(block, "devmajor") : 0;
    let devminor = hasDevice ? readNumber(block, "devminor") : 0;

    if (this.#longName !== undefined) name = this.#longName;
    if (this.#longLink !== undefined) linkname = this.#longLink;
    const records = this.#global.size === 0 ? (this.#pax ?? EMPTY) : new Map([...this.#global, ...(this.#pax ?? [])]);
    for (const [key, value] of records) {
      switch (key) {
        case "path":
          name = value.toString("latin1");
          break;
        case "linkpath":
          linkname = value.toString("latin1");
          break;
        case "size":
          size = parsePaxNumber(key, value);
          break;
        case "uid":
          uid = parsePaxNumber(key, value);
          break;
        case "gid":
          gid = parsePaxNumber(key, value);
          break;
        case "mtime":
          mtime = parsePaxTime(value.toString("latin1"));
          break;
        case "atime":
          atime = parsePaxTime(value.toString("latin1"));
          break;
        case "SCHILY.devmajor":
          if (hasDevice) devmajor = parsePaxNumber(key, value);
          break;
        case "SCHILY.devminor":
          if (hasDevice) devminor = parsePaxNumber(key, value);
          break;
        default:
          if (key.startsWith("SCHILY.xattr.")) {
            (xattrs ??= new Map()).set(key.slice("SCHILY.xattr.".length), value);
          } else if (key.startsWith("LIBARCHIVE.xattr.")) {
            // libarchive: the name URL-encoded, the value base64.
            const attr = decodeUrlName(key.slice("LIBARCHIVE.xattr.".length));
            (xattrs ??= new Map()).set(attr, Buffer.from(value.toString("latin1"), "base64"));
          } else if (key.startsWith("GNU.sparse.")) {
            throw new TarUnsupportedError(`sparse files are not supported ("${name}")`);
          }
      }
    }
    this.#pax = undefined;
    this.#longName = undefined;
    this.#longLink = undefined;

    // Old archives mark directories by a trailing slash on a regular entry.
    if (type === "file" && name.endsWith("/")) type = "dir";
    return {
      name,
      type,
      mode: readNumber(block, "mode") & 0o7777,
      uid,
      gid,
      // Only regular files carry data; other types' size fields are ignored, as Go's reader does.
      size: type === "file" ? size : 0,
      mtime,
      atime,
      linkname,
      devmajor,
      devminor,
      xattrs,
    };
  }
}

function decodeUrlName(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new TarFormatError(`malformed LIBARCHIVE.xattr name "${text}"`);
  }
}

const EMPTY: ReadonlyMap<string, Buffer> = new Map();

function cString(data: Buffer): string {
  const nul = data.indexOf(0);
  return data.toString("latin1", 0, nul < 0 ? data.length : nul);
}

function printable(flag: string): string {
  const code = flag.charCodeAt(0);
  return code >= 0x20 && code < 0x7f ? flag : `\\x${code.toString(16).padStart(2, "0")}`;
}
