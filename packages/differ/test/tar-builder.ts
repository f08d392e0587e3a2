import { gzipSync } from "node:zlib";
import { TAR_TRAILER, encodeTarHeader, tarPadding, type TarEntry, type TarEntryType, type TarTime } from "../src/index.js";

/** One entry of a test layer; unset fields get ordinary values (0644/0755, root, 2020-01-01). */
export interface EntrySpec {
  /** Text (UTF-8) or raw bytes. */
  readonly name: string | Buffer;
  readonly type?: TarEntryType;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly data?: string | Buffer;
  readonly linkname?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
  readonly mtime?: TarTime;
  readonly xattrs?: Record<string, string | Buffer>;
}

const T2020 = { sec: 1577836800, nsec: 0 };

/** A byte string (one char per byte) from text or raw bytes. */
const bytes = (s: string | Buffer) => (typeof s === "string" ? Buffer.from(s, "utf8") : s).toString("latin1");

/** An uncompressed tar of `entries`, written with Berth's own tar writer. */
export function buildTar(entries: readonly EntrySpec[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? (bytes(e.name).endsWith("/") ? "dir" : "file");
    const data = e.data === undefined ? Buffer.alloc(0) : typeof e.data === "string" ? Buffer.from(e.data) : e.data;
    const entry: TarEntry = {
      name: bytes(e.name),
      type,
      mode: e.mode ?? (type === "dir" ? 0o755 : type === "symlink" ? 0o777 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      size: type === "file" ? data.length : 0,
      mtime: e.mtime ?? T2020,
      linkname: bytes(e.linkname ?? ""),
      devmajor: e.devmajor ?? 0,
      devminor: e.devminor ?? 0,
      xattrs: e.xattrs ? new Map(Object.entries(e.xattrs).map(([k, v]) => [k, Buffer.isBuffer(v) ? v : Buffer.from(v)])) : undefined,
    };
    parts.push(encodeTarHeader(entry));
    if (type === "file") parts.push(data, tarPadding(data.length));
  }
  parts.push(TAR_TRAILER);
  return Buffer.concat(parts);
}

export const gzipTar = (entries: readonly EntrySpec[]): Buffer => gzipSync(buildTar(entries));

/** A valid security.capability value (VFS_CAP_REVISION_2, effective, cap_net_raw permitted): the kernel checks the format. */
export const CAP_NET_RAW = Buffer.from([1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
