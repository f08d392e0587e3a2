import { formatPaxRecords, formatPaxTime } from "./pax-records.js";
import type { TarEntry, TarEntryType } from "./tar-entry.js";
import { BLOCK, paddingOf, writeChecksum, writeOctal, writeString } from "./ustar-fields.js";

const FLAGS: Record<TarEntryType, string> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  char: "3",
  block: "4",
  dir: "5",
  fifo: "6",
};

/** The two zero blocks that end an archive. */
export const TAR_TRAILER: Buffer = Buffer.alloc(2 * BLOCK);

/** Zero bytes that pad `size` bytes of data to a block boundary. */
export function tarPadding(size: number): Buffer {
  return ZEROS.subarray(0, paddingOf(size));
}
const ZEROS = Buffer.alloc(BLOCK);

/**
 * The header block(s) of one entry, as POSIX pax writes them: plain ustar when everything fits,
 * preceded by a PAX 'x' header for long names and link targets, large or negative numbers,
 * sub-second mtimes and xattrs (SCHILY.xattr.<name>, raw bytes). The entry's data follows,
 * then `tarPadding(size)`.
 */
export function encodeTarHeader(entry: TarEntry): Buffer {
  const pax: [string, Buffer][] = [];
  const block = Buffer.alloc(BLOCK);

  if (!writeName(block, entry.name)) pax.push(["path", Buffer.from(entry.name, "latin1")]);
  if (entry.linkname !== "" && !writeString(block, "linkname", entry.linkname)) {
    pax.push(["linkpath", Buffer.from(entry.linkname, "latin1")]);
  }
  writeOctal(block, "mode", entry.mode & 0o7777);
  number(block, pax, "uid", entry.uid);
  number(block, pax, "gid", entry.gid);
  number(block, pax, "size", entry.type === "file" ? entry.size : 0);
  if (entry.mtime.nsec !== 0 || !writeOctal(block, "mtime", entry.mtime.sec)) {
    writeOctal(block, "mtime", Math.max(0, Math.min(entry.mtime.sec, 0o77777777777)));
    pax.push(["mtime", Buffer.from(formatPaxTime(entry.mtime), "latin1")]);
  }
  if (entry.atime) pax.push(["atime", Buffer.from(formatPaxTime(entry.atime), "latin1")]);
  block.write(FLAGS[entry.type], 156, 1, "latin1");
  block.write("ustar\x0000", 257, 8, "latin1");
  if (entry.type === "char" || entry.type === "block") {
    number(block, pax, "devmajor", entry.devmajor, "SCHILY.devmajor");
    number(block, pax, "devminor", entry.devminor, "SCHILY.devminor");
  }
  const xattrNames = [...(entry.xattrs?.keys() ?? [])].sort();
  for (const attr of xattrNames) pax.push([`SCHILY.xattr.${attr}`, entry.xattrs!.get(attr)!]);
  writeChecksum(block);
  if (pax.length === 0) return block;

  const data = formatPaxRecords(pax);
  const head = Buffer.alloc(BLOCK);
  writeName(head, paxHeaderName(entry.name));
  writeOctal(head, "mode", 0o644);
  writeOctal(head, "uid", 0);
  writeOctal(head, "gid", 0);
  writeOctal(head, "size", data.length);
  writeOctal(head, "mtime", 0);
  head.write("x", 156, 1, "latin1");
  head.write("ustar\x0000", 257, 8, "latin1");
  writeChecksum(head);
  return Buffer.concat([head, data, tarPadding(data.length), block]);
}

/** A numeric field, or a PAX record (with 0 in the field) when it does not fit. */
function number(block: Buffer, pax: [string, Buffer][], field: "uid" | "gid" | "size" | "devmajor" | "devminor", value: number, key: string = field) {
  if (writeOctal(block, field, value)) return;
  writeOctal(block, field, 0);
  pax.push([key, Buffer.from(String(value), "latin1")]);
}

/** Puts `name` into name, or prefix + name split at a slash; false if neither fits. */
function writeName(block: Buffer, name: string): boolean {
  if (writeString(block, "name", name)) return true;
  // The prefix holds everything up to a slash, the name field the rest.
  for (let slash = name.indexOf("/"); slash >= 0; slash = name.indexOf("/", slash + 1)) {
    if (slash > 155) break;
    const rest = name.slice(slash + 1);
    if (rest.length === 0 || rest.length > 100) continue;
    writeString(block, "prefix", name.slice(0, slash));
    writeString(block, "name", rest);
    return true;
  }
  return false;
}

/** "PaxHeaders/<base>" kept short enough for the name field. */
function paxHeaderName(name: string): string {
  const trimmed = name.endsWith("/") ? name.slice(0, -1) : name;
  const base = trimmed.slice(trimmed.lastIndexOf("/") + 1);
  return `PaxHeaders/${base}`.slice(0, 100);
}
