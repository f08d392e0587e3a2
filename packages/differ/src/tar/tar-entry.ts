/**
 * One entry of a tar stream, after PAX and GNU extension headers have been folded in.
 *
 * Names and link targets are "byte strings": each char is one byte of the archive (latin1),
 * so names that are not UTF-8 survive untouched. `bytesOf` / `displayName` convert.
 */
export type TarEntryType = "file" | "hardlink" | "symlink" | "char" | "block" | "dir" | "fifo";

/** A timestamp as tar carries it: whole seconds plus nanoseconds (PAX gives fractions). */
export interface TarTime {
  readonly sec: number;
  readonly nsec: number;
}

export interface TarEntry {
  /** As in the archive (not normalised): byte string. */
  readonly name: string;
  readonly type: TarEntryType;
  /** Permission bits including setuid, setgid and sticky (0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Bytes of data that follow (0 for everything but regular files). */
  readonly size: number;
  readonly mtime: TarTime;
  /** Only when a PAX header gave one. */
  readonly atime?: TarTime | undefined;
  /** Symlink target or hardlink source: byte string, "" for other types. */
  readonly linkname: string;
  readonly devmajor: number;
  readonly devminor: number;
  /** Extended attributes from PAX records (SCHILY.xattr.*, LIBARCHIVE.xattr.*). */
  readonly xattrs?: ReadonlyMap<string, Buffer> | undefined;
}

/** The raw bytes of a byte string (names, link targets). */
export function bytesOf(byteString: string): Buffer {
  return Buffer.from(byteString, "latin1");
}

/** A byte string from raw bytes. */
export function byteStringOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** A byte string as readable text, for messages (invalid UTF-8 shows as U+FFFD). */
export function displayName(byteString: string): string {
  return bytesOf(byteString).toString("utf8");
}

/** A host path (UTF-8 string) as a byte string. */
export function byteStringOfPath(path: string): string {
  return Buffer.from(path, "utf8").toString("latin1");
}
