import { chmod, mkdir, rename } from "node:fs/promises";
import { alreadyExists, type ContentInfo, type Logger } from "@berth/core";
import { digestOf } from "./digest.js";
import { exists, syncDir } from "./fs-util.js";
import { dataPath, removeIngestDir } from "./ingest-dir.js";
import type { LabelStore } from "./labels.js";
import type { Layout } from "./layout.js";
import { KeyedMutex } from "./serial.js";
import type { CommitRequest } from "./writer.js";

/** Serialises "is it there? then rename" per blob, so two refs committing one digest cannot both win. */
const committing = new KeyedMutex();

/**
 * Moves a verified ingest into blobs/: the only way a file ever appears there, so a reader
 * never sees partial or unverified bytes. The data file is already fsynced; the rename is made
 * durable by fsyncing the directory.
 */
export async function commitIngest(layout: Layout, labelStore: LabelStore, log: Logger, req: CommitRequest): Promise<ContentInfo> {
  const target = layout.blobPath(req.hex);
  const digest = digestOf(req.hex);
  const record = await committing.run(target, async () => {
    if (await exists(target)) {
      // The content is already here; the ingest has nothing left to offer (containerd drops it too).
      await removeIngestDir(req.dir);
      throw alreadyExists(`content ${digest}`);
    }
    // Labels first: if they cannot be saved, nothing became visible.
    const saved = await labelStore.set(req.hex, req.labels ?? {}, undefined);
    try {
      await mkdir(layout.blobsDir, { recursive: true, mode: 0o755 });
      await rename(dataPath(req.dir), target);
    } catch (err) {
      await labelStore.remove(req.hex).catch(() => {});
      throw err;
    }
    await syncDir(layout.blobsDir);
    return saved;
  });

  // The blob is committed; what follows cannot be rolled back, so it is logged, not thrown.
  const results = await Promise.allSettled([chmod(target, 0o444), removeIngestDir(req.dir)]);
  for (const r of results) {
    if (r.status === "rejected") log.warn("cleanup after commit failed", { ref: req.ref, digest, error: r.reason });
  }
  return { digest, size: req.size, createdAt: req.committedAt, updatedAt: req.committedAt, labels: record.labels };
}
