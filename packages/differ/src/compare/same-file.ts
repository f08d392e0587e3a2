import { closeSync, openSync, readSync, readlinkSync, constants } from "node:fs";
import { lgetxattr, llistxattr } from "@berth/native";

/** xattrs that describe the storage rather than the file, never carried in a layer. */
export function isStorageXattr(name: string): boolean {
  return name.startsWith("trusted.overlay.") || name === "security.selinux";
}

/** The xattrs a layer carries for `path`, sorted by name; undefined when there are none. */
export function layerXattrs(path: Buffer): Map<string, Buffer> | undefined {
  let names: string[];
  try {
    names = llistxattr(path);
  } catch (err) {
    if ((err as { code?: string }).code === "ENOTSUP") return undefined;
    throw err;
  }
  let out: Map<string, Buffer> | undefined;
  for (const name of names.sort()) {
    if (isStorageXattr(name)) continue;
    const value = lgetxattr(path, name);
    if (value !== undefined) (out ??= new Map()).set(name, value);
  }
  return out;
}

export function sameXattrs(a: Buffer, b: Buffer): boolean {
  const x = layerXattrs(a);
  const y = layerXattrs(b);
  if (!x || !y) return !x && !y;
  if (x.size !== y.size) return false;
  for (const [name, value] of x) {
    const other = y.get(name);
    if (!other || !other.equals(value)) return false;
  }
  return true;
}

const BUF = 1024 * 1024;

/** Same symlink target, or same bytes in two regular files of equal size. */
export function sameContent(a: Buffer, b: Buffer, kind: "file" | "link"): boolean {
  if (kind === "link") return readlinkSync(a, { encoding: "buffer" }).equals(readlinkSync(b, { encoding: "buffer" }));
  const fa = openSync(a, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const fb = openSync(b, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const ba = Buffer.allocUnsafe(BUF);
      const bb = Buffer.allocUnsafe(BUF);
      for (;;) {
        const na = readFully(fa, ba);
        const nb = readFully(fb, bb);
        if (na !== nb || !ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
        if (na === 0) return true;
      }
    } finally {
      closeSync(fb);
    }
  } finally {
    closeSync(fa);
  }
}

function readFully(fd: number, buf: Buffer): number {
  let n = 0;
  while (n < buf.length) {
    const got = readSync(fd, buf, n, buf.length - n, null);
    if (got === 0) break;
    n += got;
  }
  return n;
}
