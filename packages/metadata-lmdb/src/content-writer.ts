import {
  alreadyExists,
  failedPrecondition,
  isAlreadyExists,
  isNotFound,
  outOfRange,
  type ContentInfo,
  type ContentStore,
  type ContentWriter,
  type IngestStatus,
  type OpContext,
} from "@berth/core";
import type { MetaDb } from "./db.js";
import type { InFlightCommits } from "./gc.js";
import { blobKey, ingestKey } from "./keys.js";
import { toPairs } from "./maps.js";
import { holdInLease, releaseFromLease } from "./leases.js";
import { ensureNamespace } from "./namespaces.js";
import { toContentInfo, type BlobRecord, type IngestRecord } from "./records.js";
import { validateLabels } from "./validate.js";

export interface NamespacedWriterInit {
  readonly db: MetaDb;
  readonly backend: ContentStore;
  readonly ctx: OpContext;
  readonly ns: string;
  readonly ref: string;
  readonly record: IngestRecord;
  /** The backend writer; absent for a shared ingest until the client writes or truncates. */
  readonly inner: ContentWriter | undefined;
  readonly inFlight: InFlightCommits;
}

const ignore = () => {};

/**
 * A namespace's ingest. Either it wraps a backend writer on the namespaced backend ref, or it is
 * "shared": the expected blob already exists in the backend, the writer reports it complete,
 * and commit only records ownership. Writing to a shared one first copies the blob into a real
 * backend ingest (the client wants to change it), as containerd does.
 */
export class NamespacedWriter implements ContentWriter {
  readonly ref: string;
  readonly #init: NamespacedWriterInit;
  #inner: ContentWriter | undefined;
  #done = false;

  constructor(init: NamespacedWriterInit) {
    this.#init = init;
    this.ref = init.ref;
    this.#inner = init.inner;
  }

  async status(): Promise<IngestStatus> {
    if (this.#inner) return { ...(await this.#inner.status()), ref: this.ref };
    const { digest, size } = this.#shared();
    const { startedAt } = this.#init.record;
    return { ref: this.ref, offset: size, total: size, expected: digest, startedAt, updatedAt: startedAt };
  }

  async write(data: Uint8Array): Promise<number> {
    this.#checkOpen();
    if (!this.#inner) {
      const { size } = this.#shared();
      if (data.length === 0) return size;
      await this.#unshare(size);
    }
    return this.#inner!.write(data);
  }

  async truncate(size: number): Promise<void> {
    this.#checkOpen();
    if (this.#inner) return this.#inner.truncate(size);
    await this.#unshare(size);
  }

  digest(): string {
    return this.#inner ? this.#inner.digest() : this.#shared().digest;
  }

  async commit(size: number, expected: string, labels?: Readonly<Record<string, string>>): Promise<ContentInfo> {
    this.#checkOpen();
    validateLabels(labels, "commit labels");
    const { db, backend, ctx, ns, ref, record, inFlight } = this.#init;

    let digest: string;
    let committedSize: number;
    const inner = this.#inner;
    if (!inner) {
      const shared = this.#shared();
      if (size !== 0 && size !== shared.size) {
        throw failedPrecondition(`${JSON.stringify(ref)} failed size validation: ${shared.size} != ${size}`);
      }
      if (expected !== "" && expected !== shared.digest) {
        throw failedPrecondition(`${JSON.stringify(ref)} unexpected commit digest ${shared.digest}, expected ${expected}`);
      }
      digest = shared.digest;
      committedSize = shared.size;
    } else {
      const status = await inner.status();
      if (size !== 0 && size !== status.offset) {
        throw failedPrecondition(`${JSON.stringify(ref)} failed size validation: ${status.offset} != ${size}`);
      }
      committedSize = status.offset;
      digest = inner.digest();
    }

    // Between the backend commit and the metadata transaction the blob exists unowned; the
    // collector's listing must not count it as garbage then.
    inFlight.add(digest);
    try {
      if (inner) {
        try {
          await inner.commit(committedSize, expected);
        } catch (err) {
          // Another namespace (isolated policy) or a racing commit put it there first: the
          // upload proved this namespace has the bytes, so it still gains ownership.
          if (!isAlreadyExists(err)) throw err;
          await inner.close().catch(ignore);
          await backend.abort(ctx, record.backendRef).catch(ignore);
        }
      }
      const now = new Date();
      const created = db.update((tx) => {
        ensureNamespace(tx, ns);
        let blob = tx.get<BlobRecord>(blobKey(ns, digest));
        const existed = blob !== undefined;
        if (!blob) {
          blob = { size: committedSize, labels: toPairs(labels), createdAt: now, updatedAt: now };
          tx.put(blobKey(ns, digest), blob);
        }
        if (tx.get<IngestRecord>(ingestKey(ns, ref))?.backendRef === record.backendRef) tx.remove(ingestKey(ns, ref));
        releaseFromLease(tx, ns, ctx.lease, "ingests", ref);
        holdInLease(tx, ns, ctx.lease, "content", digest);
        return existed ? undefined : blob;
      });
      this.#done = true;
      this.#inner = undefined;
      if (!created) throw alreadyExists(`content ${digest} already exists`);
      return toContentInfo(digest, created);
    } finally {
      inFlight.delete(digest);
    }
  }

  async close(): Promise<void> {
    const inner = this.#inner;
    this.#inner = undefined;
    this.#done = true;
    if (inner) await inner.close();
  }

  #checkOpen(): void {
    if (this.#done) throw failedPrecondition(`writer for ${JSON.stringify(this.ref)} is closed`);
  }

  #shared(): { digest: string; size: number } {
    const shared = this.#init.record.shared;
    if (!shared) throw failedPrecondition(`ingest ${JSON.stringify(this.ref)} has no writer`);
    return shared;
  }

  /** Opens the backend ingest holding the shared blob's first `size` bytes. */
  async #unshare(size: number): Promise<void> {
    const { backend, ctx, record } = this.#init;
    const shared = this.#shared();
    if (size > shared.size) throw outOfRange(`cannot extend shared blob ${shared.digest} to ${size} bytes`);
    const inner = await backend.writer(ctx, { ref: record.backendRef, total: size, expected: "" });
    try {
      await inner.truncate(0);
      if (size > 0) {
        for await (const chunk of backend.read(ctx, shared.digest, { offset: 0, size })) await inner.write(chunk);
      }
    } catch (err) {
      await inner.close().catch(ignore);
      throw isNotFound(err) ? failedPrecondition(`shared blob ${shared.digest} is gone`, err) : err;
    }
    this.#inner = inner;
  }
}
