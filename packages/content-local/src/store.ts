import { mkdir, opendir, readdir, stat, unlink } from "node:fs/promises";
import type { Stats } from "node:fs";
import {
  alreadyExists,
  invalidArgument,
  isNotFound,
  notFound,
  parseFilters,
  silentLogger,
  lookupLabel,
  type ContentInfo,
  type ContentStore,
  type ContentWriter,
  type FieldLookup,
  type IngestStatus,
  type Logger,
  type OpContext,
  type ReadOptions,
  type WriterOptions,
} from "@berth/core";
import { commitIngest } from "./commit.js";
import { checkRef, digestHex, digestOf, isHex64, quoteShort, refKey } from "./digest.js";
import { exists, isErrno } from "./fs-util.js";
import { readIngestStatus, removeIngestDir } from "./ingest-dir.js";
import { LabelStore, validateLabels, withoutEmpty, type LabelRecord } from "./labels.js";
import { Layout } from "./layout.js";
import { lockHolder, lockIfFree, lockRef } from "./locks.js";
import { openWriter } from "./open-writer.js";
import { readBlob } from "./reader.js";
import type { WriterHost } from "./writer.js";

export interface LocalContentStoreOptions {
  /** Ingests untouched for longer than this (ms) are removed when the store opens; 0 keeps them forever. */
  readonly ingestExpiry?: number;
  readonly log?: Logger;
}

/** core's ContentStore, plus what only the local backend can do. */
export interface LocalContentStore extends ContentStore {
  /** The resolved root directory. */
  readonly root: string;
  /**
   * Removes ingests nobody is writing whose last activity is at least `olderThanMs` ago; for
   * the garbage collector and for `ingestExpiry`. Returns the refs removed.
   */
  expireIngests(olderThanMs: number): Promise<string[]>;
}

/**
 * Opens (creating if needed) a content store under `root`. The namespace of every OpContext
 * is ignored: this store holds bytes by digest, and the metadata store above it decides which
 * namespace sees which blob.
 */
export async function createLocalContentStore(root: string, opts: LocalContentStoreOptions = {}): Promise<LocalContentStore> {
  const layout = new Layout(root);
  await mkdir(layout.blobsDir, { recursive: true, mode: 0o755 });
  await mkdir(layout.ingestRoot, { recursive: true, mode: 0o755 });
  const log = opts.log ?? silentLogger;
  const store = new Store(layout, log);
  const expiry = opts.ingestExpiry ?? 0;
  if (expiry > 0) {
    const removed = await store.expireIngests(expiry);
    if (removed.length > 0) log.info("removed expired ingests", { count: removed.length, refs: removed });
  }
  return store;
}

class Store implements LocalContentStore {
  readonly root: string;
  readonly #layout: Layout;
  readonly #labels: LabelStore;
  readonly #log: Logger;
  readonly #host: WriterHost;

  constructor(layout: Layout, log: Logger) {
    this.root = layout.root;
    this.#layout = layout;
    this.#labels = new LabelStore(layout);
    this.#log = log;
    this.#host = { log, commit: (req) => commitIngest(layout, this.#labels, log, req) };
  }

  async info(_ctx: OpContext, digest: string): Promise<ContentInfo> {
    const hex = digestHex(digest);
    const [st, record] = await Promise.all([this.#statBlob(hex), this.#labels.get(hex)]);
    return toInfo(hex, st, record);
  }

  async update(_ctx: OpContext, info: Pick<ContentInfo, "digest" | "labels">, fieldpaths: readonly string[]): Promise<ContentInfo> {
    const hex = digestHex(info.digest);
    const labels = info.labels ?? {};
    // As containerd: "labels" (or no fieldpaths) replaces them all, "labels.<key>" sets or removes one.
    let replaceAll = fieldpaths.length === 0;
    const changes: Record<string, string | undefined> = {};
    for (const path of fieldpaths) {
      if (path === "labels") replaceAll = true;
      else if (path.startsWith("labels.")) {
        const key = path.slice("labels.".length);
        changes[key] = Object.hasOwn(labels, key) ? labels[key] : undefined;
      } else throw invalidArgument(`cannot update ${quoteShort(path)} field on content info ${info.digest}`);
    }
    validateLabels(replaceAll ? labels : withoutEmpty(changes));
    const st = await this.#statBlob(hex);
    const now = new Date();
    const record = replaceAll ? await this.#labels.set(hex, labels, now) : await this.#labels.patch(hex, changes, now);
    return toInfo(hex, st, record);
  }

  async *walk(ctx: OpContext, filters: readonly string[]): AsyncIterable<ContentInfo> {
    const filter = parseFilters(filters);
    let dir;
    try {
      dir = await opendir(this.#layout.blobsDir);
    } catch (err) {
      if (isErrno(err, "ENOENT")) return;
      throw err;
    }
    for await (const entry of dir) {
      ctx.signal?.throwIfAborted();
      if (!isHex64(entry.name)) continue;
      let st;
      try {
        st = await stat(this.#layout.blobPath(entry.name));
      } catch (err) {
        if (isErrno(err, "ENOENT")) continue; // deleted while we walked
        throw err;
      }
      if (!st.isFile()) continue;
      const info = toInfo(entry.name, st, await this.#labels.get(entry.name));
      if (filter.match(adaptInfo(info))) yield info;
    }
  }

  async delete(_ctx: OpContext, digest: string): Promise<void> {
    const hex = digestHex(digest);
    try {
      await unlink(this.#layout.blobPath(hex));
    } catch (err) {
      if (isErrno(err, "ENOENT")) throw notFound(`content ${digest}`);
      throw err;
    }
    await this.#labels.remove(hex);
  }

  async *read(ctx: OpContext, digest: string, opts?: ReadOptions): AsyncIterable<Uint8Array> {
    const hex = digestHex(digest);
    yield* readBlob(this.#layout.blobPath(hex), digest, opts, ctx.signal);
  }

  async writer(_ctx: OpContext, opts: WriterOptions): Promise<ContentWriter> {
    const ref = checkRef(opts.ref);
    const total = opts.total ?? 0;
    if (!Number.isSafeInteger(total) || total < 0) throw invalidArgument(`invalid total ${total}`);
    const expected = opts.expected ?? "";
    const expectedHex = expected === "" ? undefined : digestHex(expected);
    const key = refKey(ref);
    const lock = lockRef(this.root, key, ref);
    try {
      if (expectedHex !== undefined && (await exists(this.#layout.blobPath(expectedHex)))) {
        throw alreadyExists(`content ${expected}`);
      }
      return await openWriter({ ref, dir: this.#layout.ingestDir(key), total, expected, lock, host: this.#host });
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  async status(_ctx: OpContext, ref: string): Promise<IngestStatus> {
    checkRef(ref);
    try {
      return await readIngestStatus(this.#layout.ingestDir(refKey(ref)));
    } catch (err) {
      if (isNotFound(err)) throw notFound(`ingest ref ${quoteShort(ref)}`, err);
      throw err;
    }
  }

  async listStatuses(_ctx: OpContext, filters: readonly string[]): Promise<IngestStatus[]> {
    const filter = parseFilters(filters);
    const keys = (await this.#ingestKeys()).filter(isHex64);
    const statuses = await Promise.all(
      keys.map((key) =>
        readIngestStatus(this.#layout.ingestDir(key)).catch((err: unknown) => {
          // Committed, aborted or still being created while we listed: not an ingest right now.
          if (isNotFound(err)) return undefined;
          throw err;
        }),
      ),
    );
    return statuses.filter((s): s is IngestStatus => s !== undefined && filter.match(adaptStatus(s)));
  }

  async abort(_ctx: OpContext, ref: string): Promise<void> {
    checkRef(ref);
    const key = refKey(ref);
    // A live writer is told to let go first (as in containerd, abort does not wait for it to close).
    await lockHolder(this.root, key)?.owner?.abandon("aborted");
    const lock = lockRef(this.root, key, ref);
    try {
      const dir = this.#layout.ingestDir(key);
      if (!(await exists(dir))) throw notFound(`ingest ref ${quoteShort(ref)}`);
      await removeIngestDir(dir);
    } finally {
      lock.release();
    }
  }

  async expireIngests(olderThanMs: number): Promise<string[]> {
    if (!Number.isFinite(olderThanMs) || olderThanMs < 0) throw invalidArgument(`invalid ingest age ${olderThanMs}`);
    const cutoff = Date.now() - olderThanMs;
    const removed: string[] = [];
    for (const key of await this.#ingestKeys()) {
      if (!isHex64(key)) continue;
      // Holding the ref's lock keeps a writer from resuming the ingest while it is removed;
      // an ingest with a live writer is in use, whatever its times say.
      const lock = lockIfFree(this.root, key, "");
      if (!lock) continue;
      try {
        const found = await this.#lastActivity(key);
        if (found && found.at.getTime() <= cutoff) {
          await removeIngestDir(this.#layout.ingestDir(key));
          if (found.ref !== undefined) removed.push(found.ref);
          else this.#log.debug("removed incomplete ingest", { dir: this.#layout.ingestDir(key) });
        }
      } finally {
        lock.release();
      }
    }
    return removed;
  }

  /** When an ingest last changed; an incomplete one (no data or ref) is judged by its directory. */
  async #lastActivity(key: string): Promise<{ ref: string | undefined; at: Date } | undefined> {
    const dir = this.#layout.ingestDir(key);
    try {
      const status = await readIngestStatus(dir);
      return { ref: status.ref, at: status.updatedAt };
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    try {
      return { ref: undefined, at: (await stat(dir)).mtime };
    } catch (err) {
      if (isErrno(err, "ENOENT")) return undefined;
      throw err;
    }
  }

  async #ingestKeys(): Promise<string[]> {
    try {
      return await readdir(this.#layout.ingestRoot);
    } catch (err) {
      if (isErrno(err, "ENOENT")) return [];
      throw err;
    }
  }

  async #statBlob(hex: string): Promise<Stats> {
    try {
      const st = await stat(this.#layout.blobPath(hex));
      if (st.isFile()) return st;
    } catch (err) {
      if (!isErrno(err, "ENOENT", "ENOTDIR")) throw err;
    }
    throw notFound(`content ${digestOf(hex)}`);
  }
}

function toInfo(hex: string, st: Stats, record: LabelRecord): ContentInfo {
  // createdAt is the commit time (commit sets the mtime); updatedAt moves when labels change.
  return {
    digest: digestOf(hex),
    size: st.size,
    createdAt: st.mtime,
    updatedAt: record.updatedAt ?? st.mtime,
    labels: record.labels,
  };
}

/** Filter fields of a blob: digest, size, labels.<key>. */
function adaptInfo(info: ContentInfo): FieldLookup {
  return (fieldpath) => {
    switch (fieldpath[0]) {
      case "digest":
        return fieldpath.length === 1 ? info.digest : undefined;
      case "size":
        return fieldpath.length === 1 ? String(info.size) : undefined;
      case "labels":
        return lookupLabel(info.labels, fieldpath.slice(1));
      default:
        return undefined;
    }
  };
}

/** Filter fields of an ingest: ref (as in containerd). */
function adaptStatus(status: IngestStatus): FieldLookup {
  return (fieldpath) => (fieldpath.length === 1 && fieldpath[0] === "ref" ? status.ref : undefined);
}
