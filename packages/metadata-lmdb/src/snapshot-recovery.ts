import { isNotFound, type Logger, type Snapshotter } from "@berth/core";
import type { MetaDb } from "./db.js";
import { namespacesPrefix, snapshotterPrefix } from "./keys.js";
import type { SnapshotRecord } from "./records.js";
import { abandonCommit, finishCommit } from "./snapshot-commit.js";

/**
 * Settles commits a crash interrupted (records still `pending`, see snapshot-commit.ts) by
 * asking each backend whether the committed snapshot exists: if so the commit finishes, if not
 * it is abandoned and the active snapshot is as before. Runs when the store opens, before any
 * call can start a commit. A backend not loaded this time keeps its pending records for later.
 */
export async function settleInterruptedCommits(db: MetaDb, backends: ReadonlyMap<string, Snapshotter>, log: Logger): Promise<void> {
  for (const { key: nsKey } of db.list(namespacesPrefix)) {
    const ns = String(nsKey[1]);
    for (const [snapshotter, backend] of backends) {
      for (const { key, value } of db.list<SnapshotRecord>(snapshotterPrefix(ns, snapshotter))) {
        if (!value.pending) continue;
        const name = String(key[4]);
        let committed: boolean;
        try {
          committed = (await backend.stat({ namespace: ns }, value.backendKey)).kind === "committed";
        } catch (err) {
          if (!isNotFound(err)) {
            log.warn("cannot settle an interrupted snapshot commit yet", { namespace: ns, snapshotter, name, error: (err as Error).message });
            continue;
          }
          committed = false;
        }
        db.update((tx) => (committed ? finishCommit(tx, ns, snapshotter, name) : abandonCommit(tx, ns, snapshotter, name)));
        log.info("settled an interrupted snapshot commit", { namespace: ns, snapshotter, name, committed });
      }
    }
  }
}
