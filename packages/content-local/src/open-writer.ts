import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { isNotFound, type Logger } from "@berth/core";
import { hashFile } from "./hashing.js";
import {
  createIngestDir,
  dataPath,
  readIngestStatus,
  removeIngestDir,
  writeExpectations,
  writeIngestMeta,
} from "./ingest-dir.js";
import type { RefLock } from "./locks.js";
import { LocalWriter, type WriterHost } from "./writer.js";

export interface OpenWriterArgs {
  readonly ref: string;
  /** The ingest directory: <root>/ingest/<sha256(ref)>. */
  readonly dir: string;
  readonly total: number;
  readonly expected: string;
  /** Held by the caller; handed to the writer, which releases it. */
  readonly lock: RefLock;
  readonly host: WriterHost;
}

/**
 * Starts a new ingest or resumes the one left under `dir`. Resuming re-reads the data to
 * rebuild the sha256 (the previous writer's hash state died with it or with the daemon). An
 * ingest that cannot be resumed (incomplete, or opened with a different size or digest) is
 * started again from empty, as containerd does.
 */
export async function openWriter(args: OpenWriterArgs): Promise<LocalWriter> {
  const created = await createIngestDir(args.dir);
  if (!created) {
    const resumed = await resume(args);
    if (resumed) return resumed;
  }
  try {
    const startedAt = new Date();
    await writeIngestMeta(args.dir, { ref: args.ref, startedAt, total: args.total, expected: args.expected });
    // Last: status counts an ingest only once `data` and `ref` both exist.
    const fh = await open(dataPath(args.dir), "w+", 0o644);
    const state = { ref: args.ref, dir: args.dir, fh, hash: createHash("sha256"), offset: 0, startedAt, updatedAt: startedAt };
    return new LocalWriter({ ...state, total: args.total, expected: args.expected }, args.host, args.lock);
  } catch (err) {
    if (created) await removeIngestDir(args.dir).catch(() => {});
    throw err;
  }
}

async function resume(args: OpenWriterArgs): Promise<LocalWriter | undefined> {
  const log = args.host.log.with({ ref: args.ref });
  let status;
  try {
    status = await readIngestStatus(args.dir);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    log.info("ingest incomplete; starting it again", { error: err });
    return undefined;
  }
  if (!canResume(log, args, status)) return undefined;

  const fh = await open(dataPath(args.dir), "r+");
  try {
    const { hash, size } = await hashFile(fh);
    const total = args.total || status.total;
    const expected = args.expected || status.expected;
    if (total !== status.total || expected !== status.expected) await writeExpectations(args.dir, total, expected);
    const state = { ref: args.ref, dir: args.dir, fh, hash, offset: size, total, expected };
    return new LocalWriter({ ...state, startedAt: status.startedAt, updatedAt: status.updatedAt }, args.host, args.lock);
  } catch (err) {
    await fh.close().catch(() => {});
    throw err;
  }
}

function canResume(log: Logger, args: OpenWriterArgs, status: { ref: string; total: number; expected: string }): boolean {
  if (status.ref !== args.ref) {
    // Only a sha256 collision or a hand-edited directory gets here.
    log.warn("ingest directory belongs to another ref; starting it again", { found: status.ref });
    return false;
  }
  if (args.total > 0 && status.total > 0 && args.total !== status.total) {
    log.info("ingest was opened for another size; starting it again", { total: args.total, was: status.total });
    return false;
  }
  if (args.expected !== "" && status.expected !== "" && args.expected !== status.expected) {
    log.info("ingest was opened for another digest; starting it again", { expected: args.expected, was: status.expected });
    return false;
  }
  return true;
}
