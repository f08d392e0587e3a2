/**
 * The zlib dictionary SPDY/3 primes header compression with (SPDY draft 3, §2.6.10.1). It is
 * protocol data, not configuration: every SPDY/3 peer must use exactly these bytes, or the first
 * header block fails to inflate. The draft defines it as HTTP header words, each preceded by
 * its length as a 32-bit big-endian integer, followed by one unprefixed run of common values.
 */
const PREFIXED_WORDS = [
  "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset",
  "accept-encoding", "accept-language", "accept-ranges", "age", "allow", "authorization",
  "cache-control", "connection", "content-base", "content-encoding", "content-language",
  "content-length", "content-location", "content-md5", "content-range", "content-type", "date",
  "etag", "expect", "expires", "from", "host", "if-match", "if-modified-since", "if-none-match",
  "if-range", "if-unmodified-since", "last-modified", "location", "max-forwards", "pragma",
  "proxy-authenticate", "proxy-authorization", "range", "referer", "retry-after", "server", "te",
  "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via", "warning",
  "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url", "public",
  "set-cookie", "keep-alive", "origin",
];

const STATUS_CODES = "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505";
const REASONS =
  "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request" +
  "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented" +
  "503 Service Unavailable";
const DATES = "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT";
const VALUES =
  "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml," +
  "text/plain,text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8" +
  "charset=iso-8859-1,utf-,*,enq=0.";

function buildDictionary(): Buffer {
  const parts: Buffer[] = [];
  for (const word of PREFIXED_WORDS) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(word.length);
    parts.push(len, Buffer.from(word, "latin1"));
  }
  parts.push(Buffer.from(STATUS_CODES + REASONS + DATES + VALUES, "latin1"));
  return Buffer.concat(parts);
}

/** The SPDY/3 header compression dictionary (1423 bytes). Treat as read-only. */
export const SPDY3_HEADER_DICTIONARY: Buffer = buildDictionary();
