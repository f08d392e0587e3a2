import { readFile } from "node:fs/promises";

/** One line of /proc/self/mountinfo, the fields Berth uses. Paths are raw bytes (names need not be UTF-8). */
export interface MountInfo {
  readonly id: number;
  readonly parentId: number;
  readonly mountPoint: Buffer;
  readonly options: string;
  /** "shared:1", "master:2"… */
  readonly optionalFields: readonly string[];
  readonly fsType: string;
  readonly source: Buffer;
}

const BACKSLASH = 0x5c;
const isOctal = (byte: number | undefined) => byte !== undefined && byte >= 0x30 && byte <= 0x37;

/** The kernel writes space, tab, newline and backslash in paths as "\040"-style octal escapes. */
export function unescapeMountInfoField(field: Buffer): Buffer {
  if (!field.includes(BACKSLASH)) return field;
  const out = Buffer.alloc(field.length);
  let n = 0;
  for (let i = 0; i < field.length; i++) {
    const byte = field[i] as number;
    if (byte === BACKSLASH && isOctal(field[i + 1]) && isOctal(field[i + 2]) && isOctal(field[i + 3])) {
      out[n++] = Number.parseInt(field.subarray(i + 1, i + 4).toString("latin1"), 8);
      i += 3;
    } else {
      out[n++] = byte;
    }
  }
  return out.subarray(0, n);
}

function splitOn(buf: Buffer, byte: number): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let at = buf.indexOf(byte); at !== -1; at = buf.indexOf(byte, start)) {
    parts.push(buf.subarray(start, at));
    start = at + 1;
  }
  parts.push(buf.subarray(start));
  return parts;
}

export function parseMountInfo(text: Buffer): MountInfo[] {
  const mounts: MountInfo[] = [];
  for (const line of splitOn(text, 0x0a)) {
    if (line.length === 0) continue;
    const fields = splitOn(line, 0x20);
    const separator = fields.findIndex((f, i) => i >= 6 && f.length === 1 && f[0] === 0x2d); // "-"
    if (separator === -1 || fields.length < separator + 3) continue;
    mounts.push({
      id: Number(fields[0]?.toString()),
      parentId: Number(fields[1]?.toString()),
      mountPoint: unescapeMountInfoField(fields[4] as Buffer),
      options: (fields[5] as Buffer).toString(),
      optionalFields: fields.slice(6, separator).map((f) => f.toString()),
      fsType: (fields[separator + 1] as Buffer).toString(),
      source: unescapeMountInfoField(fields[separator + 2] as Buffer),
    });
  }
  return mounts;
}

/** This process's mounts, in the kernel's order (a mount comes after the one it sits on). */
export async function readMountInfo(): Promise<MountInfo[]> {
  return parseMountInfo(await readFile("/proc/self/mountinfo"));
}
