import { createHash, type Hash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import {
  failedPrecondition,
  invalidArgument,
  outOfRange,
  type ContentInfo,
  type ContentWriter,
  type IngestStatus,
  type Logger,
} from "@berth/core";
import { digestHex, digestOf } from "./digest.js";
import { hashFile, hexDigest } from "./hashing.js";
import { writeUpdatedAt } from "./ingest-dir.js";
import { validateLabels, type Labels } from "./labels.js";
import type { LockOwner, RefLock } from "./locks.js";
import { SerialQueue } from "./serial.js";
import { WriteBehind } from "./write-behind.js";

/** Bytes written between two hand-backs of an ingest's pages to the kernel. */
const WRITE_BEHIND_WINDOW = 8 * 1024 * 1024;

/** What a writer asks of its store once the bytes are verified. */
export interface CommitRequest {
  readonly ref: string;
  /** The ingest directory; its `data` file is synced and closed. */
  readonly dir: string;
  readonly hex: string;
  readonly size: number;
  readonly labels: Labels | undefined;
  readonly committedAt: Date;
}

export interface WriterHost {
  commit(req: CommitRequest): Promise<ContentInfo>;
  readonly log: Logger;
}

export interface WriterState {
  readonly ref: string;
  readonly dir: string;
  readonly fh: FileHandle;
  readonly hash: Hash;
  readonly offset: number;
  readonly total: number;
  readonly expected: string;
  readonly startedAt: Date;
  readonly updatedAt: Date;
}

/**
 * One open ingest. The data file stays open for the writer's life and every write lands at
 * a known position, so there is no open/seek/close per chunk; the sha256 is kept running in
 * memory, so commit never re-reads the bytes; nothing is fsynced before commit. Operations
 * run one at a time in call order, even when a caller does not await between them.
 */
export class LocalWriter implements ContentWriter, LockOwner {
  readonly ref: string;
  readonly #dir: string;
  readonly #host: WriterHost;
  readonly #lock: RefLock;
  readonly #queue = new SerialQueue();
  readonly #writeBehind: WriteBehind;
  #fh: FileHandle | undefined;
  #hash: Hash;
  #offset: number;
  readonly #total: number;
  readonly #expected: string;
  readonly #startedAt: Date;
  #updatedAt: Date;
  /** Written since `updatedat` was last saved. */
  #dirty = false;
  /** Why the writer no longer accepts operations: "closed", "committed", "aborted". */
  #ended: string | undefined;

  constructor(state: WriterState, host: WriterHost, lock: RefLock) {
    this.ref = state.ref;
    this.#dir = state.dir;
    this.#fh = state.fh;
    this.#hash = state.hash;
    this.#offset = state.offset;
    this.#total = state.total;
    this.#expected = state.expected;
    this.#startedAt = state.startedAt;
    this.#updatedAt = state.updatedAt;
    this.#writeBehind = new WriteBehind(state.fh.fd, state.offset, WRITE_BEHIND_WINDOW, host.log);
    this.#host = host;
    this.#lock = lock;
    lock.owner = this;
  }

  async status(): Promise<IngestStatus> {
    return {
      ref: this.ref,
      offset: this.#offset,
      total: this.#total,
      expected: this.#expected,
      startedAt: this.#startedAt,
      updatedAt: this.#updatedAt,
    };
  }

  digest(): string {
    return digestOf(hexDigest(this.#hash));
  }

  write(data: Uint8Array): Promise<number> {
    return this.#queue.run(async () => {
      const fh = this.#handle();
      if (!(data instanceof Uint8Array)) throw invalidArgument("write expects bytes");
      const at = this.#offset;
      if (data.byteLength === 0) return at;
      const before = this.#hash.copy();
      // Hash on this thread while libuv's pool writes: the two overlap instead of adding up.
      const written = writeFully(fh, data, at);
      this.#hash.update(data);
      try {
        await written;
      } catch (err) {
        this.#hash = before;
        await this.#cutBack(fh, at, err);
        throw err;
      }
      this.#offset = at + data.byteLength;
      this.#updatedAt = new Date();
      this.#dirty = true;
      this.#writeBehind.written(this.#offset);
      return this.#offset;
    });
  }

  truncate(size: number): Promise<void> {
    return this.#queue.run(async () => {
      const fh = this.#handle();
      if (!Number.isSafeInteger(size) || size < 0) throw invalidArgument(`invalid truncate size ${size}`);
      if (size > this.#offset) throw outOfRange(`cannot truncate ref ${this.ref} to ${size}: only ${this.#offset} bytes written`);
      await fh.truncate(size);
      this.#writeBehind.truncated(size);
      // The running hash cannot be rewound; a cut to a non-zero size re-reads what is kept.
      this.#hash = size === 0 ? createHash("sha256") : (await hashFile(fh, size)).hash;
      this.#offset = size;
      this.#updatedAt = new Date();
      this.#dirty = true;
    });
  }

  /**
   * Like containerd, a commit releases the writer whatever its outcome: after a mismatch the
   * ingest stays on disk and a new writer for the ref resumes, truncates or aborts it.
   */
  commit(size: number, expected: string, labels?: Labels): Promise<ContentInfo> {
    return this.#queue.run(async () => {
      const fh = this.#handle();
      try {
        if (!Number.isSafeInteger(size) || size < 0) throw invalidArgument(`invalid commit size ${size}`);
        if (expected) digestHex(expected);
        validateLabels(labels);
        if (size > 0 && size !== this.#offset) {
          throw failedPrecondition(`unexpected commit size ${this.#offset}, expected ${size}`);
        }
        const hex = hexDigest(this.#hash);
        if (expected && expected !== digestOf(hex)) {
          throw failedPrecondition(`unexpected commit digest ${digestOf(hex)}, expected ${expected}`);
        }
        // The blob's mtime is its createdAt; set it now so the one fsync below covers it.
        const committedAt = new Date();
        await fh.utimes(committedAt, committedAt);
        await fh.sync();
        await this.#writeBehind.settled();
        this.#fh = undefined;
        await fh.close();
        const info = await this.#host.commit({ ref: this.ref, dir: this.#dir, hex, size: this.#offset, labels, committedAt });
        this.#ended = "committed";
        this.#lock.release();
        return info;
      } finally {
        // Once the file is closed the ingest may be gone (AlreadyExists removes it): nothing to save.
        const saveUpdatedAt = this.#fh !== undefined;
        if (this.#ended === undefined) await this.#end("closed", saveUpdatedAt).catch((err) => this.#logEndError(err));
      }
    });
  }

  close(): Promise<void> {
    return this.#queue.run(() => this.#end("closed", true));
  }

  /** Called by the store's abort: the ingest is about to be removed under this writer. */
  abandon(reason: string): Promise<void> {
    return this.#queue.run(() => this.#end(reason, false).catch((err) => this.#logEndError(err)));
  }

  #handle(): FileHandle {
    if (this.#ended !== undefined || this.#fh === undefined) {
      throw failedPrecondition(`writer for ref ${this.ref} is ${this.#ended ?? "closed"}`);
    }
    return this.#fh;
  }

  /** After a failed write: drop any partial bytes so the file matches the hash again, or give up the writer. */
  async #cutBack(fh: FileHandle, at: number, cause: unknown): Promise<void> {
    try {
      await fh.truncate(at);
    } catch {
      // A resumed writer re-reads the file, so whatever is on disk is still consistent then.
      this.#host.log.warn("ingest data could not be cut back after a failed write; writer closed", { ref: this.ref, error: cause });
      await this.#end("closed", false).catch(() => {});
    }
  }

  /** Closes the file, saves updatedat (once, here, instead of per write) and releases the ref. */
  async #end(reason: string, saveUpdatedAt: boolean): Promise<void> {
    if (this.#ended !== undefined) return;
    this.#ended = reason;
    const fh = this.#fh;
    this.#fh = undefined;
    try {
      await this.#writeBehind.settled();
      await fh?.close();
      if (saveUpdatedAt && this.#dirty) await writeUpdatedAt(this.#dir, this.#updatedAt);
    } finally {
      this.#lock.release();
    }
  }

  #logEndError(err: unknown): void {
    this.#host.log.warn("closing ingest writer failed", { ref: this.ref, error: err });
  }
}

/** A write(2) may be short; loop until every byte of `data` is at `position`. */
async function writeFully(fh: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.byteLength) {
    const { bytesWritten } = await fh.write(data, done, data.byteLength - done, position + done);
    if (bytesWritten === 0) throw new Error("write made no progress");
    done += bytesWritten;
  }
}
