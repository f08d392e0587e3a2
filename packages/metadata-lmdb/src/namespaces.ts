import {
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  notFound,
  validateIdentifier,
  type Namespace,
  type NamespaceStore,
} from "@berth/core";
import type { MetaDb, ReadTx, WriteTx } from "./db.js";
import {
  blobsPrefix,
  containersPrefix,
  imagesPrefix,
  leasesPrefix,
  namespaceKey,
  namespaceObjectsPrefix,
  namespacesPrefix,
  sandboxesPrefix,
  snapshotsPrefix,
} from "./keys.js";
import { applyLabelPath, fromPairs, toPairs } from "./maps.js";
import type { NamespaceRecord } from "./records.js";
import { validateLabels } from "./validate.js";

/**
 * Creates the namespace record if it is missing. Every store mutation that adds something to a
 * namespace calls this in its transaction: containerd creates a namespace's bucket on first use,
 * so `ctr -n new images import …` works without creating `new` first.
 */
export function ensureNamespace(tx: WriteTx, ns: string): void {
  if (!tx.has(namespaceKey(ns))) tx.put(namespaceKey(ns), { labels: [] } satisfies NamespaceRecord);
}

/** What still lives in a namespace, as containerd words it; empty when it may be deleted. */
function remainingObjects(tx: ReadTx, ns: string): string[] {
  const out: string[] = [];
  if (tx.any(imagesPrefix(ns))) out.push("images");
  if (tx.any(blobsPrefix(ns))) out.push("blobs");
  if (tx.any(containersPrefix(ns))) out.push("containers");
  if (tx.any(leasesPrefix(ns))) out.push("leases");
  if (tx.any(sandboxesPrefix(ns))) out.push("sandboxes");
  const snapshotters = new Set<string>();
  for (const { key } of tx.list(snapshotsPrefix(ns))) snapshotters.add(String(key[3]));
  for (const s of snapshotters) out.push(`snapshots on ${JSON.stringify(s)} snapshotter`);
  return out;
}

const toNamespace = (name: string, record: NamespaceRecord): Namespace => ({ name, labels: fromPairs(record.labels) });

export function createNamespaceStore(db: MetaDb): NamespaceStore {
  return {
    async create(name, labels) {
      validateIdentifier(name);
      validateLabels(labels, "namespace.labels");
      const record: NamespaceRecord = { labels: toPairs(labels) };
      await db.commit((tx) => {
        if (tx.has(namespaceKey(name))) throw alreadyExists(`namespace ${JSON.stringify(name)} already exists`);
        tx.put(namespaceKey(name), record);
      });
      return toNamespace(name, record);
    },

    async get(name) {
      const record = db.get<NamespaceRecord>(namespaceKey(name));
      if (!record) throw notFound(`namespace ${JSON.stringify(name)} not found`);
      return toNamespace(name, record);
    },

    async list() {
      return db.list<NamespaceRecord>(namespacesPrefix).map(({ key, value }) => toNamespace(String(key[1]), value));
    },

    /**
     * Fieldpaths "labels" and "labels.<key>"; none replaces all labels. Like containerd's
     * namespace service (whose SetLabel creates the bucket), updating a missing namespace
     * creates it.
     */
    async update(namespace, fieldpaths) {
      const name = namespace.name;
      validateIdentifier(name);
      return db.commit((tx) => {
        const current = fromPairs(tx.get<NamespaceRecord>(namespaceKey(name))?.labels);
        let labels = current;
        if (fieldpaths.length === 0) {
          labels = fromPairs(toPairs(namespace.labels));
        } else {
          for (const path of fieldpaths) {
            const next = applyLabelPath(path, labels, namespace.labels);
            if (!next) throw invalidArgument(`cannot update ${JSON.stringify(path)} field on namespace ${JSON.stringify(name)}`);
            labels = next;
          }
        }
        validateLabels(labels, "namespace.labels");
        const record: NamespaceRecord = { labels: toPairs(labels) };
        tx.put(namespaceKey(name), record);
        return toNamespace(name, record);
      });
    },

    async delete(name) {
      await db.commit((tx) => {
        if (!tx.has(namespaceKey(name))) throw notFound(`namespace ${JSON.stringify(name)} not found`);
        const remaining = remainingObjects(tx, name);
        if (remaining.length > 0) {
          throw failedPrecondition(
            `namespace ${JSON.stringify(name)} must be empty, but it still has ${remaining.join(", ")}`,
          );
        }
        // Only unfinished ingests can be left: their backend data is left to garbage collection.
        tx.removeAll(namespaceObjectsPrefix(name));
        tx.remove(namespaceKey(name));
        tx.markDirty({ ingests: true });
      });
    },
  };
}
