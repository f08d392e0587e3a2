import type { TarTime } from "./tar-entry.js";
import { TarFormatError } from "./ustar-fields.js";

/**
 * PAX extended header records: "<length> <key>=<value>\n", the length counting the whole
 * record. Values stay raw bytes: xattr values are binary and paths need not be UTF-8.
 */
export function parsePaxRecords(data: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let at = 0;
  while (at < data.length) {
    if (data[at] === 0) break; // some writers pad the data with NULs
    const space = data.indexOf(0x20, at);
    if (space < 0) throw new TarFormatError("malformed PAX record: no length");
    const length = Number(data.toString("latin1", at, space));
    if (!Number.isInteger(length) || length <= space - at + 1 || at + length > data.length) {
      throw new TarFormatError("malformed PAX record length");
    }
    const end = at + length;
    if (data[end - 1] !== 0x0a) throw new TarFormatError("malformed PAX record: no newline");
    const eq = data.indexOf(0x3d, space + 1);
    if (eq < 0 || eq >= end) throw new TarFormatError("malformed PAX record: no '='");
    const key = data.toString("utf8", space + 1, eq);
    records.set(key, data.subarray(eq + 1, end - 1));
    at = end;
  }
  return records;
}

/** Encodes records; keys are text, values raw bytes. */
export function formatPaxRecords(records: Iterable<readonly [string, Buffer]>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const keyBytes = Buffer.from(key, "utf8");
    const base = keyBytes.length + value.length + 3; // " ", "=", "\n"
    let length = base + String(base).length;
    if (String(length).length !== String(base).length) length = base + String(length).length;
    parts.push(Buffer.from(`${length} `, "latin1"), keyBytes, Buffer.from("=", "latin1"), value, Buffer.from("\n", "latin1"));
  }
  return Buffer.concat(parts);
}

/** "1577836800", "1577836800.5", "-1.25" → seconds and nanoseconds (nsec always ≥ 0). */
export function parsePaxTime(text: string): TarTime {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(text);
  if (!m) throw new TarFormatError(`malformed PAX time "${text}"`);
  const sec = Number(m[2]);
  const nsec = Number((m[3] ?? "").slice(0, 9).padEnd(9, "0"));
  if (m[1] !== "-") return { sec, nsec };
  return nsec === 0 ? { sec: -sec, nsec: 0 } : { sec: -sec - 1, nsec: 1e9 - nsec };
}

export function formatPaxTime(t: TarTime): string {
  if (t.nsec === 0) return String(t.sec);
  if (t.sec >= 0) return `${t.sec}.${String(t.nsec).padStart(9, "0")}`;
  const total = { sec: t.sec + 1, nsec: 1e9 - t.nsec }; // -1.25 is sec -2, nsec 750000000
  return `-${Math.abs(total.sec)}.${String(total.nsec).padStart(9, "0")}`;
}

/** A decimal PAX number (uid, gid, size). */
export function parsePaxNumber(key: string, value: Buffer): number {
  const text = value.toString("latin1");
  if (!/^\d+$/.test(text)) throw new TarFormatError(`malformed PAX ${key} "${text}"`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new TarFormatError(`PAX ${key} out of range`);
  return n;
}
