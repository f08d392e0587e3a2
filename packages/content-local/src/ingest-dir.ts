import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { notFound, type IngestStatus } from "@berth/core";
import { isDigest } from "./digest.js";
import { isErrno, readTextIfExists, writeFileAtomic } from "./fs-util.js";
import { formatTimestamp, parseTimestamp } from "./timestamp.js";

/**
 * The files of one ingest directory, named as containerd names them:
 *
 *   data       the bytes written so far (its size is the offset)
 *   ref        the client's ref, which the directory name is the sha256 of
 *   startedat  when the ingest began
 *   updatedat  when a writer last let go of it (data's mtime is newer while writing)
 *   total      the expected size, only when known
 *   expected   Berth only: the expected digest, only when known
 */
export const dataPath = (dir: string) => join(dir, "data");

export interface IngestMeta {
  readonly ref: string;
  readonly startedAt: Date;
  readonly total: number;
  readonly expected: string;
}

/**
 * Writes the metadata of a new (or restarted) ingest. `data` is created afterwards by the
 * writer, and status needs both `data` and `ref`, so a crash halfway leaves a directory
 * that status ignores and a later writer restarts.
 */
export async function writeIngestMeta(dir: string, meta: IngestMeta): Promise<void> {
  const started = formatTimestamp(meta.startedAt);
  await Promise.all([
    writeFile(join(dir, "ref"), meta.ref, { mode: 0o644 }),
    writeFile(join(dir, "startedat"), started, { mode: 0o644 }),
    writeFile(join(dir, "updatedat"), started, { mode: 0o644 }),
    writeExpectations(dir, meta.total, meta.expected),
  ]);
}

/** Records (or clears) the expected size and digest. */
export async function writeExpectations(dir: string, total: number, expected: string): Promise<void> {
  await Promise.all([
    total > 0 ? writeFile(join(dir, "total"), String(total), { mode: 0o644 }) : rm(join(dir, "total"), { force: true }),
    expected !== "" ? writeFile(join(dir, "expected"), expected, { mode: 0o644 }) : rm(join(dir, "expected"), { force: true }),
  ]);
}

/** Rewritten when a writer lets go, not per write: data's mtime tracks activity meanwhile. */
export async function writeUpdatedAt(dir: string, at: Date): Promise<void> {
  await writeFileAtomic(join(dir, "updatedat"), formatTimestamp(at));
}

/** The ingest's status from disk; NotFound when it does not exist or is incomplete. */
export async function readIngestStatus(dir: string): Promise<IngestStatus> {
  let dataStat;
  let ref;
  try {
    [dataStat, ref] = await Promise.all([stat(dataPath(dir)), readFile(join(dir, "ref"), "utf8")]);
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) throw notFound(`ingest ${dir}: incomplete or absent`, err);
    throw err;
  }
  const [startedText, updatedText, totalText, expectedText] = await Promise.all(
    ["startedat", "updatedat", "total", "expected"].map((name) => readTextIfExists(join(dir, name))),
  );
  const startedAt = parseTimestamp(startedText ?? "") ?? dataStat.birthtime;
  const recorded = parseTimestamp(updatedText ?? "") ?? startedAt;
  // A live writer does not rewrite updatedat per write, so the data's mtime can be newer.
  const updatedAt = dataStat.mtime > recorded ? dataStat.mtime : recorded;
  return {
    ref,
    offset: dataStat.size,
    total: parseTotal(totalText),
    expected: expectedText !== undefined && isDigest(expectedText.trim()) ? expectedText.trim() : "",
    startedAt,
    updatedAt,
  };
}

/** A corrupt total file means "unknown", as in containerd. */
function parseTotal(text: string | undefined): number {
  if (text === undefined || !/^\d+$/.test(text.trim())) return 0;
  const n = Number(text.trim());
  return Number.isSafeInteger(n) ? n : 0;
}

/** Creates the ingest directory; false when it already exists (an ingest to resume). */
export async function createIngestDir(dir: string): Promise<boolean> {
  try {
    await mkdir(dir, { mode: 0o755 });
    return true;
  } catch (err) {
    if (isErrno(err, "EEXIST")) return false;
    throw err;
  }
}

export async function removeIngestDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
