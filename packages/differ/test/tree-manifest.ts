import { createHash } from "node:crypto";
import { lstatSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { lgetxattr, llistxattr } from "@berth/native";

/** One line per path: what two unpacks of the same image must agree on. */
export interface ManifestEntry {
  readonly path: string;
  readonly type: "file" | "dir" | "symlink" | "char" | "block" | "fifo" | "socket";
  readonly mode: string;
  readonly uid: number;
  readonly gid: number;
  readonly size?: number;
  readonly sha256?: string;
  readonly target?: string;
  readonly rdev?: string;
  /** Not for directories: their times change as files are written into them. */
  readonly mtime?: number;
  readonly xattrs?: Record<string, string>;
}

const typeOf = (mode: number): ManifestEntry["type"] => {
  switch (mode & 0o170000) {
    case 0o100000: return "file";
    case 0o040000: return "dir";
    case 0o120000: return "symlink";
    case 0o020000: return "char";
    case 0o060000: return "block";
    case 0o010000: return "fifo";
    default: return "socket";
  }
};

/** Names are shown as their UTF-8 reading, or with \\xNN escapes where that would lose bytes. */
function show(name: Buffer): string {
  const text = name.toString("utf8");
  if (Buffer.from(text).equals(name)) return text;
  return [...name].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`)).join("");
}

/**
 * Walks `root` (without following symlinks), sorted by name bytes. xattrs of the storage
 * (trusted.overlay.*) are left out; the rest are listed with hex values.
 */
export function treeManifest(root: string): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  const walk = (dir: Buffer, rel: string) => {
    const names = readdirSync(dir, { encoding: "buffer" }).sort(Buffer.compare);
    for (const name of names) {
      const abs = Buffer.concat([dir, Buffer.from("/"), name]);
      const path = rel === "" ? show(name) : `${rel}/${show(name)}`;
      const st = lstatSync(abs);
      const type = typeOf(st.mode);
      const xattrs: Record<string, string> = {};
      for (const x of llistxattr(abs).sort()) {
        if (x.startsWith("trusted.overlay.")) continue;
        xattrs[x] = lgetxattr(abs, x)?.toString("hex") ?? "";
      }
      out.push({
        path,
        type,
        mode: (st.mode & 0o7777).toString(8).padStart(4, "0"),
        uid: st.uid,
        gid: st.gid,
        ...(type === "file" ? { size: st.size, sha256: createHash("sha256").update(readFileSync(abs)).digest("hex") } : {}),
        ...(type === "symlink" ? { target: show(readlinkSync(abs, { encoding: "buffer" })) } : {}),
        ...(type === "char" || type === "block" ? { rdev: `${Math.floor(st.rdev / 256) & 0xfff}:${st.rdev & 0xff}` } : {}),
        ...(type !== "dir" ? { mtime: Math.floor(st.mtimeMs / 1000) } : {}),
        ...(Object.keys(xattrs).length > 0 ? { xattrs } : {}),
      });
      if (type === "dir") walk(abs, path);
    }
  };
  walk(Buffer.from(root), "");
  return out;
}

/** The first differences between two manifests, readable in a test failure. */
export function manifestDiff(a: readonly ManifestEntry[], b: readonly ManifestEntry[], limit = 20): string[] {
  const byPath = (m: readonly ManifestEntry[]) => new Map(m.map((e) => [e.path, JSON.stringify(e)]));
  const ma = byPath(a);
  const mb = byPath(b);
  const out: string[] = [];
  for (const [path, line] of ma) {
    if (!mb.has(path)) out.push(`only in first:  ${line}`);
    else if (mb.get(path) !== line) out.push(`differs:        ${line}\n            vs: ${mb.get(path)}`);
  }
  for (const [path, line] of mb) if (!ma.has(path)) out.push(`only in second: ${line}`);
  return out.slice(0, limit);
}
