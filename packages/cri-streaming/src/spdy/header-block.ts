import { SpdyProtocolError } from "./frames.js";

/**
 * SPDY headers: lower-case names, each with one or more values. On the wire a name appears
 * once and its values are joined by NUL (draft 3 §2.6.10).
 */
export type SpdyHeaders = ReadonlyMap<string, readonly string[]>;

/** Builds SpdyHeaders from a plain object; names are lower-cased as SPDY requires. */
export function spdyHeaders(fields: Readonly<Record<string, string | readonly string[]>>): SpdyHeaders {
  const out = new Map<string, string[]>();
  for (const [name, value] of Object.entries(fields)) {
    const key = name.toLowerCase();
    const values = typeof value === "string" ? [value] : [...value];
    out.set(key, [...(out.get(key) ?? []), ...values]);
  }
  return out;
}

/** The first value of `name` (case-insensitive), or undefined. */
export function headerValue(headers: SpdyHeaders, name: string): string | undefined {
  return headers.get(name.toLowerCase())?.[0];
}

/** Serialises a header block (uncompressed). */
export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [];
  const count = Buffer.alloc(4);
  count.writeUInt32BE(headers.size);
  parts.push(count);
  for (const [name, values] of headers) {
    const n = Buffer.from(name.toLowerCase(), "utf8");
    const v = Buffer.from(values.join("\0"), "utf8");
    const nl = Buffer.alloc(4);
    nl.writeUInt32BE(n.length);
    const vl = Buffer.alloc(4);
    vl.writeUInt32BE(v.length);
    parts.push(nl, n, vl, v);
  }
  return Buffer.concat(parts);
}

/** Parses an uncompressed header block; rejects truncation and duplicate names. */
export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  const fail = (why: string): never => {
    throw new SpdyProtocolError(`malformed header block: ${why}`);
  };
  if (block.length < 4) fail("shorter than its pair count");
  const count = block.readUInt32BE(0);
  // Every pair takes at least 8 bytes, so a count past that is a lie, not a big block.
  if (count > (block.length - 4) / 8) fail(`claims ${count} pairs in ${block.length} bytes`);
  const headers = new Map<string, string[]>();
  let off = 4;
  const readString = (what: string): string => {
    if (block.length - off < 4) fail(`truncated ${what} length`);
    const len = block.readUInt32BE(off);
    off += 4;
    if (block.length - off < len) fail(`truncated ${what}`);
    const s = block.toString("utf8", off, off + len);
    off += len;
    return s;
  };
  for (let i = 0; i < count; i++) {
    const name = readString("name");
    if (name.length === 0) fail("empty header name");
    const value = readString("value");
    const key = name.toLowerCase();
    if (headers.has(key)) fail(`duplicate header ${JSON.stringify(key)}`);
    headers.set(key, value.split("\0"));
  }
  return headers;
}
