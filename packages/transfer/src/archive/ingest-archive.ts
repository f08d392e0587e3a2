import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import {
  failedPrecondition,
  invalidArgument,
  isAlreadyExists,
  isFailedPrecondition,
  type ContentStore,
  type ContentWriter,
  type OpContext,
} from "@berth/core";
import { TarParser, type TarEntry } from "@berth/differ";

/** A regular file of the archive, now a blob in the content store. */
export interface ArchiveFile {
  readonly digest: string;
  readonly size: number;
  /** The file's first bytes: enough to tell a compressed layer from a plain tar. */
  readonly head: Buffer;
}

/** What an image archive held, its files stored as blobs. */
export interface ArchiveContents {
  /** By path inside the archive, cleaned ("blobs/sha256/…", "index.json", "<id>/layer.tar"). */
  readonly files: ReadonlyMap<string, ArchiveFile>;
  /** Symlinks (docker-archive layers shared between images), target path resolved. */
  readonly symlinks: ReadonlyMap<string, string>;
  /** `oci-layout`'s imageLayoutVersion, when the archive is an OCI image layout. */
  readonly ociLayoutVersion?: string | undefined;
  /** docker-archive's manifest.json, parsed. */
  readonly dockerManifest?: unknown;
}

/** The two small JSON files read in memory rather than stored (containerd does the same). */
const READ_IN_MEMORY = new Set(["oci-layout", "manifest.json"]);
const JSON_LIMIT = 20 << 20;
const HEAD_BYTES = 8;
const BLOB_PATH = /^blobs\/sha256\/([0-9a-f]{64})$/;

type TarEvent = { readonly kind: "entry"; readonly entry: TarEntry } | { readonly kind: "data"; readonly piece: Buffer } | { readonly kind: "end" };

/**
 * Reads an uncompressed image archive (OCI image layout or docker-archive tar) as it streams
 * and stores every regular file in the content store: files under blobs/sha256/ are verified
 * against their names, others are stored under the digest of their bytes. Blobs already in the
 * store are skipped, their bytes read past.
 */
export async function ingestArchive(content: ContentStore, ctx: OpContext, tar: AsyncIterable<Uint8Array>): Promise<ArchiveContents> {
  const events: TarEvent[] = [];
  const parser = new TarParser({
    entry: (entry) => {
      events.push({ kind: "entry", entry });
    },
    data: (piece) => events.push({ kind: "data", piece }),
    end: () => events.push({ kind: "end" }),
  });
  const sink = new ArchiveSink(content, ctx);
  try {
    for await (const chunk of tar) {
      // The parser hands out views into `chunk`. Chunks are never reused, so the views stay
      // valid while the events are applied, one chunk at a time.
      parser.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      for (const event of events.splice(0)) await sink.apply(event);
    }
    parser.finish();
    for (const event of events.splice(0)) await sink.apply(event);
  } catch (err) {
    await sink.discard();
    throw err;
  }
  return sink.contents();
}

interface OpenFile {
  readonly path: string;
  readonly size: number;
  /** Set for blobs/sha256/<hex> files: the digest the bytes must have. */
  readonly expected?: string | undefined;
  /** undefined: the store already has the blob, its bytes are skipped. */
  readonly writer?: ContentWriter | undefined;
  /** For the JSON files read in memory. */
  readonly memory?: Buffer[] | undefined;
  head: Buffer;
  received: number;
}

class ArchiveSink {
  private readonly importId = randomBytes(6).toString("hex");
  private readonly files = new Map<string, ArchiveFile>();
  private readonly symlinks = new Map<string, string>();
  private readonly small = new Map<string, Buffer>();
  private current: OpenFile | undefined;

  constructor(
    private readonly content: ContentStore,
    private readonly ctx: OpContext,
  ) {}

  async apply(event: TarEvent): Promise<void> {
    switch (event.kind) {
      case "entry":
        return this.open(event.entry);
      case "data":
        return this.write(event.piece);
      case "end":
        return this.close();
    }
  }

  private async open(entry: TarEntry): Promise<void> {
    const path = cleanPath(entry.name);
    if (entry.type === "symlink") this.symlinks.set(path, posix.join(posix.dirname(path), entry.linkname));
    if (entry.type !== "file") return;
    const base = { path, size: entry.size, head: Buffer.alloc(0), received: 0 };
    if (READ_IN_MEMORY.has(path)) {
      if (entry.size > JSON_LIMIT) throw invalidArgument(`archive file ${path} is ${entry.size} bytes, over the ${JSON_LIMIT}-byte limit`);
      this.current = { ...base, memory: [] };
      return;
    }
    const hex = BLOB_PATH.exec(path)?.[1];
    const expected = hex === undefined ? undefined : `sha256:${hex}`;
    const writer = await this.openWriter(path, entry.size, expected);
    this.current = { ...base, expected, writer };
  }

  /** A writer for the file's blob; undefined when the store has it (here, or shared from another namespace). */
  private async openWriter(path: string, size: number, expected: string | undefined): Promise<ContentWriter | undefined> {
    let writer: ContentWriter;
    try {
      writer = await this.content.writer(this.ctx, { ref: `import-${this.importId}-${path}`, total: size, expected: expected ?? "" });
    } catch (err) {
      if (isAlreadyExists(err)) return undefined;
      throw err;
    }
    if (expected !== undefined && (await writer.status()).offset === size) {
      // Another namespace has it: committing makes it visible here without the bytes.
      await this.commit(writer, path, size, expected);
      return undefined;
    }
    return writer;
  }

  private async write(piece: Buffer): Promise<void> {
    const file = this.current;
    if (file === undefined) return;
    if (file.head.length < HEAD_BYTES) file.head = Buffer.concat([file.head, piece.subarray(0, HEAD_BYTES - file.head.length)]);
    file.received += piece.length;
    if (file.memory) file.memory.push(Buffer.from(piece));
    else if (file.writer) await file.writer.write(piece);
  }

  private async close(): Promise<void> {
    const file = this.current;
    this.current = undefined;
    if (file === undefined) return;
    if (file.memory) {
      this.small.set(file.path, Buffer.concat(file.memory));
      return;
    }
    const digest = file.writer ? await this.commit(file.writer, file.path, file.size, file.expected ?? file.writer.digest()) : file.expected!;
    this.files.set(file.path, { digest, size: file.size, head: file.head });
  }

  private async commit(writer: ContentWriter, path: string, size: number, digest: string): Promise<string> {
    try {
      await writer.commit(size, digest);
    } catch (err) {
      if (isAlreadyExists(err)) return digest;
      if (isFailedPrecondition(err)) {
        await this.content.abort(this.ctx, writer.ref).catch(() => undefined);
        throw failedPrecondition(`archive file ${path}: its bytes do not match its name (expected ${digest}, got ${writer.digest()})`, err);
      }
      throw err;
    }
    return digest;
  }

  /** After a failure: the open ingest goes, nothing half-written is left to resume. */
  async discard(): Promise<void> {
    const writer = this.current?.writer;
    this.current = undefined;
    if (writer === undefined) return;
    await writer.close().catch(() => undefined);
    await this.content.abort(this.ctx, writer.ref).catch(() => undefined);
  }

  contents(): ArchiveContents {
    const layout = this.small.get("oci-layout");
    const manifest = this.small.get("manifest.json");
    return {
      files: this.files,
      symlinks: this.symlinks,
      ociLayoutVersion: layout === undefined ? undefined : jsonField(layout, "oci-layout", "imageLayoutVersion"),
      dockerManifest: manifest === undefined ? undefined : parseJson(manifest, "manifest.json"),
    };
  }
}

/** "./blobs//sha256/x" → "blobs/sha256/x", as Go's path.Clean does for archive names. */
function cleanPath(name: string): string {
  const cleaned = posix.normalize(Buffer.from(name, "latin1").toString("utf8")).replace(/^(\.\/)+/, "").replace(/\/+$/, "");
  return cleaned.startsWith("/") ? cleaned.slice(1) : cleaned;
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    throw invalidArgument(`archive file ${what} is not valid JSON`, err);
  }
}

function jsonField(bytes: Buffer, what: string, field: string): string {
  const v = parseJson(bytes, what) as Record<string, unknown> | null;
  const value = typeof v === "object" && v !== null ? v[field] : undefined;
  if (typeof value !== "string") throw invalidArgument(`archive file ${what} has no ${field}`);
  return value;
}
