import { failedPrecondition, internal, type Logger } from "@berth/core";
import type { MetaDb, WriteTx } from "./db.js";
import { SCHEMA_VERSION_KEY, namespaceKey, type Key } from "./keys.js";
import type { NamespaceRecord } from "./records.js";

/**
 * One step of the layout's history: `migrate` turns a database at version `version - 1` into
 * one at `version`. It runs in the same transaction that records the new version, so a crash
 * or a throw leaves the database at the previous version, to be migrated again on next open.
 */
export interface Migration {
  readonly version: number;
  readonly description: string;
  migrate(tx: WriteTx): void;
}

/**
 * Version 1: every namespace that holds objects has a namespace record. A database with no
 * version (0) is empty or was written before namespaces had records; objects under
 * ["ns", X, …] then imply namespace X, as a bucket implies it in containerd.
 */
const namespaceRecords: Migration = {
  version: 1,
  description: "a record for every namespace that holds objects",
  migrate(tx) {
    const seen = new Set<string>();
    for (const { key } of tx.list<unknown>(["ns"] as Key)) {
      const ns = key[1];
      if (typeof ns !== "string" || seen.has(ns)) continue;
      seen.add(ns);
      if (!tx.has(namespaceKey(ns))) tx.put(namespaceKey(ns), { labels: [] } satisfies NamespaceRecord);
    }
  },
};

/** Ordered by version; the last one is the version this build writes. */
export const MIGRATIONS: readonly Migration[] = [namespaceRecords];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Brings the database up to the last migration's version, one transaction per step, and
 * returns that version. A database newer than this build is refused rather than misread.
 */
export function runMigrations(db: MetaDb, migrations: readonly Migration[], log?: Logger): number {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw internal(`migration ${i} has version ${m.version}, expected ${i + 1}`);
  });
  const latest = migrations.length;
  const current = db.get<number>(SCHEMA_VERSION_KEY) ?? 0;
  if (current > latest) {
    throw failedPrecondition(
      `metadata schema version ${current} is newer than this build understands (${latest}); refusing to open`,
    );
  }
  for (const m of migrations.slice(current)) {
    db.update((tx) => {
      m.migrate(tx);
      tx.put(SCHEMA_VERSION_KEY, m.version);
    });
    log?.info("metadata migrated", { version: m.version, migration: m.description });
  }
  return latest;
}
