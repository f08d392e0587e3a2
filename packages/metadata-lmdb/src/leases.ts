import {
  alreadyExists,
  invalidArgument,
  lookupLabel,
  notFound,
  notImplemented,
  parseFilters,
  type FieldLookup,
  type Lease,
  type LeaseManager,
  type LeaseResource,
} from "@berth/core";
import type { MetaDb, WriteTx } from "./db.js";
import { leaseKey, leaseResourceKey, leaseResourcesPrefix, leasesPrefix, type Key } from "./keys.js";
import { fromPairs, toPairs } from "./maps.js";
import { ensureNamespace } from "./namespaces.js";
import type { LeaseRecord } from "./records.js";
import { namespaceOf, validateDigest, validateKeyPart, validateLabels } from "./validate.js";

/**
 * The resource types a lease can hold, as containerd: "content" (a digest), "ingests" (a ref),
 * "images" (a name), "snapshots/<snapshotter>" (a key). Other types are NotImplemented, as in
 * containerd, so a newer client learns the daemon lacks them rather than that it erred.
 */
export function checkResource(resource: LeaseResource): LeaseResource {
  if (resource.type.length > 128) throw invalidArgument("resource type is longer than 128 characters");
  const parts = resource.type.split("/");
  const kind = parts[0];
  switch (kind) {
    case "content":
    case "ingests":
    case "images":
      if (parts.length !== 1) throw invalidArgument(`invalid resource type ${JSON.stringify(resource.type)}`);
      if (kind === "content") validateDigest(resource.id, "content resource id");
      break;
    case "snapshots":
      if (parts.length !== 2 || parts[1] === "") {
        throw invalidArgument(`invalid snapshot resource type ${JSON.stringify(resource.type)}`);
      }
      break;
    default:
      throw notImplemented(`resource type ${JSON.stringify(resource.type)} not supported`);
  }
  validateKeyPart(resource.id, "resource id");
  return resource;
}

function requireLease(tx: WriteTx, ns: string, lease: string): void {
  if (!tx.has(leaseKey(ns, lease))) throw notFound(`lease ${JSON.stringify(lease)} does not exist`);
}

/**
 * Inside a mutation under `lease` (an OpContext's lease), records that the lease holds the
 * resource; NotFound when that lease does not exist, which aborts the mutation as in
 * containerd. Returns whether a lease was given.
 */
export function holdInLease(tx: WriteTx, ns: string, lease: string | undefined, type: string, id: string): boolean {
  if (!lease) return false;
  requireLease(tx, ns, lease);
  tx.put(leaseResourceKey(ns, lease, type, id), true);
  return true;
}

/** The reverse of holdInLease; a missing lease or resource is not an error. */
export function releaseFromLease(tx: WriteTx, ns: string, lease: string | undefined, type: string, id: string): void {
  if (lease) tx.remove(leaseResourceKey(ns, lease, type, id));
}

const toLease = (id: string, record: LeaseRecord): Lease => ({
  id,
  createdAt: record.createdAt,
  labels: fromPairs(record.labels),
});

const leaseFields =
  (lease: Lease): FieldLookup =>
  (path) => {
    switch (path[0]) {
      case "id":
        return lease.id === "" ? undefined : lease.id;
      case "labels":
        return lookupLabel(lease.labels, path.slice(1));
      default:
        return undefined;
    }
  };

/** Resource entries removed per write transaction once their lease is gone. */
const RELEASE_BATCH = 1024;

/**
 * Removes the resource entries of deleted lease `id`, a bounded batch per transaction, so a
 * lease holding thousands of resources does not hold every writer up while it goes (containerd
 * drops a bolt bucket, which costs little; here each entry is a key). Nothing reads a lease's
 * resources once its record is gone, so the entries left meanwhile are invisible; a lease
 * created again under the same name removes them first (create), after which this stops.
 * The batches are silent: the delete was counted once, with its record, as containerd's one
 * transaction is, and the collector's scheduler counts mutations while something is deleted.
 */
async function removeReleasedResources(db: MetaDb, ns: string, id: string): Promise<void> {
  const snapshot = db.snapshot();
  try {
    const batch: Key[] = [];
    const flush = (): boolean =>
      db.update(
        (tx) => {
          if (tx.has(leaseKey(ns, id))) return false;
          for (const key of batch.splice(0)) tx.remove(key);
          return true;
        },
        { silent: true },
      );
    for (const { key } of snapshot.entries(leaseResourcesPrefix(ns, id))) {
      batch.push(key);
      if (batch.length < RELEASE_BATCH) continue;
      if (!flush()) return;
      await db.writersServed();
    }
    if (batch.length > 0) flush();
  } finally {
    snapshot.done();
  }
}

export function createLeaseManager(db: MetaDb): LeaseManager {
  return {
    /** The client names the lease (ctr and containerd's client generate IDs); labels such as containerd.io/gc.expire are kept as given. */
    async create(ctx, { id, labels }) {
      const ns = namespaceOf(ctx);
      validateKeyPart(id, "lease id");
      validateLabels(labels, "lease.labels");
      const record: LeaseRecord = { labels: toPairs(labels), createdAt: new Date() };
      await db.commit((tx) => {
        ensureNamespace(tx, ns);
        if (tx.has(leaseKey(ns, id))) throw alreadyExists(`lease ${JSON.stringify(id)} already exists`);
        // Resources a deleted lease of this name left (its delete still removing them, or cut short by a crash) are not this lease's.
        if (tx.any(leaseResourcesPrefix(ns, id))) tx.removeAll(leaseResourcesPrefix(ns, id));
        tx.put(leaseKey(ns, id), record);
      });
      return toLease(id, record);
    },

    /** `sync` is the caller's to honour: a scheduler (io.containerd.gc.v1) sits above this store, so the service waits for it. */
    async delete(ctx, id) {
      const ns = namespaceOf(ctx);
      await db.commit((tx) => {
        if (!tx.has(leaseKey(ns, id))) throw notFound(`lease ${JSON.stringify(id)} not found`);
        tx.remove(leaseKey(ns, id));
        tx.markDirty();
      });
      await removeReleasedResources(db, ns, id);
    },

    async list(ctx, filters) {
      const ns = namespaceOf(ctx);
      const filter = parseFilters(filters);
      return db
        .list<LeaseRecord>(leasesPrefix(ns))
        .map(({ key, value }) => toLease(String(key[3]), value))
        .filter((lease) => filter.match(leaseFields(lease)));
    },

    async addResource(ctx, leaseId, resource) {
      const ns = namespaceOf(ctx);
      const { type, id } = checkResource(resource);
      await db.commit((tx) => {
        requireLease(tx, ns, leaseId);
        tx.put(leaseResourceKey(ns, leaseId, type, id), true);
      });
    },

    async deleteResource(ctx, leaseId, resource) {
      const ns = namespaceOf(ctx);
      const { type, id } = checkResource(resource);
      await db.commit((tx) => {
        requireLease(tx, ns, leaseId);
        tx.remove(leaseResourceKey(ns, leaseId, type, id));
        tx.markDirty();
      });
    },

    async listResources(ctx, leaseId) {
      const ns = namespaceOf(ctx);
      if (!db.has(leaseKey(ns, leaseId))) throw notFound(`lease ${JSON.stringify(leaseId)} not found`);
      return db.list(leaseResourcesPrefix(ns, leaseId)).map(({ key }) => ({ type: String(key[4]), id: String(key[5]) }));
    },
  };
}
