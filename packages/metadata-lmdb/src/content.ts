import {
  alreadyExists,
  invalidArgument,
  isNotFound,
  lookupLabel,
  notFound,
  parseFilters,
  type ContentInfo,
  type ContentStore,
  type ContentWriter,
  type FieldLookup,
  type IngestStatus,
  type OpContext,
} from "@berth/core";
import type { MetaDb, WriteTx } from "./db.js";
import { NamespacedWriter } from "./content-writer.js";
import type { InFlightCommits } from "./gc.js";
import {
  INGEST_SEQUENCE_KEY,
  blobKey,
  blobsPrefix,
  ingestKey,
  ingestsPrefix,
  leaseResourceKey,
  namespacesPrefix,
} from "./keys.js";
import { applyLabelPath, fromPairs, ownValue, toPairs } from "./maps.js";
import { holdInLease, releaseFromLease } from "./leases.js";
import { ensureNamespace } from "./namespaces.js";
import { toContentInfo, type BlobRecord, type IngestRecord, type NamespaceRecord } from "./records.js";
import { namespaceOf, validateDigest, validateKeyPart, validateLabels } from "./validate.js";

/**
 * containerd's content sharing policies. "shared": a writer for a digest some namespace already
 * committed gets that blob without an upload. "isolated": the client must upload the whole blob
 * before its namespace sees it (proving it has the bytes), unless a namespace labelled
 * containerd.io/namespace.shareable=true holds it.
 */
export type ContentSharingPolicy = "shared" | "isolated";

const SHAREABLE_NAMESPACE_LABEL = "containerd.io/namespace.shareable";

/** containerd's lifetime for an ingest no lease holds; after it the collector removes the ingest. */
const UNLEASED_INGEST_TTL_MS = 24 * 60 * 60 * 1000;

/** Filter fields for walk: digest, size, labels.<k>. */
const infoFields =
  (info: ContentInfo): FieldLookup =>
  (path) => {
    switch (path[0]) {
      case "digest":
        return info.digest;
      case "size":
        return String(info.size);
      case "labels":
        return lookupLabel(info.labels, path.slice(1));
      default:
        return undefined;
    }
  };

/**
 * The backend ref for a namespace's ingest: namespace and a sequence number in front of the
 * client's ref (containerd's `<ns>/<n>/<ref>`), so two namespaces using the same ref, or a ref
 * reused after an abort, never meet in the backend.
 */
function nextBackendRef(tx: WriteTx, ns: string, ref: string): string {
  const seq = (tx.get<number>(INGEST_SEQUENCE_KEY) ?? 0) + 1;
  tx.put(INGEST_SEQUENCE_KEY, seq);
  return `${ns}/${seq}/${ref}`;
}

/**
 * The content store seen through namespaces. Bytes live once in `backend` (which ignores
 * namespaces); which namespace owns which blob, and its labels there, live in metadata. Backend
 * calls are async and cannot sit inside an lmdb transaction, so each operation orders its backend
 * call and its metadata transaction (which re-checks what it read) so that a failure in between
 * leaves at worst backend data nobody refers to, for the collector (gc.ts): never a record that
 * points at something missing it needs.
 */
export function createNamespacedContentStore(
  db: MetaDb,
  backend: ContentStore,
  policy: ContentSharingPolicy,
  inFlight: InFlightCommits,
): ContentStore {
  function ownedRecord(ns: string, digest: string): BlobRecord {
    const record = db.get<BlobRecord>(blobKey(ns, digest));
    if (!record) throw notFound(`content digest ${digest} not found`);
    return record;
  }

  function inShareableNamespace(digest: string): boolean {
    return db.list<NamespaceRecord>(namespacesPrefix).some(
      ({ key, value }) =>
        ownValue(fromPairs(value.labels), SHAREABLE_NAMESPACE_LABEL) === "true" && db.has(blobKey(String(key[1]), digest)),
    );
  }

  async function ingestStatus(ctx: OpContext, ref: string, record: IngestRecord): Promise<IngestStatus> {
    try {
      return { ...(await backend.status(ctx, record.backendRef)), ref };
    } catch (err) {
      // A shared ingest has no backend ingest until the client writes to it.
      if (!isNotFound(err) || !record.shared) throw err;
      const { digest, size } = record.shared;
      return { ref, offset: size, total: size, expected: digest, startedAt: record.startedAt, updatedAt: record.startedAt };
    }
  }

  return {
    async info(ctx, digest) {
      return toContentInfo(digest, ownedRecord(namespaceOf(ctx), digest));
    },

    async update(ctx, info, fieldpaths) {
      const ns = namespaceOf(ctx);
      return db.update((tx) => {
        const record = tx.get<BlobRecord>(blobKey(ns, info.digest));
        if (!record) throw notFound(`content digest ${info.digest} not found`);
        let labels = fromPairs(record.labels);
        if (fieldpaths.length === 0) labels = fromPairs(toPairs(info.labels));
        for (const path of fieldpaths) {
          const next = applyLabelPath(path, labels, info.labels);
          if (!next) throw invalidArgument(`cannot update ${JSON.stringify(path)} field on content info ${info.digest}`);
          labels = next;
        }
        validateLabels(labels, "info.labels");
        const updated: BlobRecord = { ...record, labels: toPairs(labels), updatedAt: new Date() };
        tx.put(blobKey(ns, info.digest), updated);
        return toContentInfo(info.digest, updated);
      });
    },

    async *walk(ctx, filters) {
      const ns = namespaceOf(ctx);
      const filter = parseFilters(filters);
      for (const { key, value } of db.list<BlobRecord>(blobsPrefix(ns))) {
        const info = toContentInfo(String(key[4]), value);
        if (filter.match(infoFields(info))) yield info;
      }
    },

    /** Removes this namespace's ownership only; the bytes stay for the garbage collector to judge. */
    async delete(ctx, digest) {
      const ns = namespaceOf(ctx);
      db.update((tx) => {
        if (!tx.has(blobKey(ns, digest))) throw notFound(`content digest ${digest} not found`);
        tx.remove(blobKey(ns, digest));
        releaseFromLease(tx, ns, ctx.lease, "content", digest);
        tx.markDirty({ blob: digest });
      });
    },

    async *read(ctx, digest, opts) {
      ownedRecord(namespaceOf(ctx), digest);
      yield* backend.read(ctx, digest, opts);
    },

    async writer(ctx, opts): Promise<ContentWriter> {
      const ns = namespaceOf(ctx);
      const ref = opts.ref;
      validateKeyPart(ref, "ref");
      const expected = opts.expected ?? "";
      const total = opts.total ?? 0;

      if (expected !== "") {
        validateDigest(expected, "expected digest");
        if (db.has(blobKey(ns, expected))) {
          // Already here: nothing to write, but a lease given for the write still takes it.
          db.update((tx) => holdInLease(tx, ns, ctx.lease, "content", expected));
          throw alreadyExists(`content ${expected} already exists`);
        }
      }

      let shared: IngestRecord["shared"];
      if (expected !== "" && (policy === "shared" || inShareableNamespace(expected))) {
        try {
          const found = await backend.info(ctx, expected);
          // A size that disagrees is the client's error, reported at commit as containerd does.
          if (total === 0 || total === found.size) shared = { digest: expected, size: found.size };
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }

      const now = new Date();
      const { record, created, newlyLeased } = db.update((tx) => {
        ensureNamespace(tx, ns);
        const existing = tx.get<IngestRecord>(ingestKey(ns, ref));
        const alreadyLeased = ctx.lease ? tx.has(leaseResourceKey(ns, ctx.lease, "ingests", ref)) : false;
        const leased = holdInLease(tx, ns, ctx.lease, "ingests", ref);
        const record: IngestRecord = {
          backendRef: existing?.backendRef ?? nextBackendRef(tx, ns, ref),
          startedAt: existing?.startedAt ?? now,
          ...(leased ? {} : { expireAt: new Date(now.getTime() + UNLEASED_INGEST_TTL_MS) }),
          ...(shared ? { shared } : {}),
        };
        tx.put(ingestKey(ns, ref), record);
        return { record, created: existing === undefined, newlyLeased: leased && !alreadyLeased };
      });

      let inner: ContentWriter | undefined;
      if (!shared) {
        try {
          // No expected digest for the backend: that blob may exist there (another namespace's)
          // and this namespace must still upload it; commit then only records ownership.
          inner = await backend.writer(ctx, { ref: record.backendRef, total, expected: "" });
        } catch (err) {
          // Undo only what this call added (a locked ref belongs to another live writer).
          db.update((tx) => {
            if (created && tx.get<IngestRecord>(ingestKey(ns, ref))?.backendRef === record.backendRef) {
              tx.remove(ingestKey(ns, ref));
            }
            if (newlyLeased) releaseFromLease(tx, ns, ctx.lease, "ingests", ref);
          });
          throw err;
        }
      }
      return new NamespacedWriter({ db, backend, ctx, ns, ref, record, inner, inFlight });
    },

    async status(ctx, ref) {
      const ns = namespaceOf(ctx);
      const record = db.get<IngestRecord>(ingestKey(ns, ref));
      if (!record) throw notFound(`ingest ref ${JSON.stringify(ref)} not found`);
      return ingestStatus(ctx, ref, record);
    },

    async listStatuses(ctx, filters) {
      const ns = namespaceOf(ctx);
      const filter = parseFilters(filters);
      const out: IngestStatus[] = [];
      for (const { key, value } of db.list<IngestRecord>(ingestsPrefix(ns))) {
        const ref = String(key[4]);
        if (!filter.match((path) => (path[0] === "ref" ? ref : undefined))) continue;
        try {
          out.push(await ingestStatus(ctx, ref, value));
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      return out;
    },

    async abort(ctx, ref) {
      const ns = namespaceOf(ctx);
      const record = db.get<IngestRecord>(ingestKey(ns, ref));
      if (!record) throw notFound(`ingest ref ${JSON.stringify(ref)} not found`);
      // Backend first: if it refuses (a writer holds the ref) the record must stay.
      try {
        await backend.abort(ctx, record.backendRef);
      } catch (err) {
        if (!isNotFound(err)) throw err; // a shared ingest never had backend data
      }
      db.update((tx) => {
        if (tx.get<IngestRecord>(ingestKey(ns, ref))?.backendRef === record.backendRef) tx.remove(ingestKey(ns, ref));
        releaseFromLease(tx, ns, ctx.lease, "ingests", ref);
        // The blob a shared ingest was to own may have no owner left.
        if (record.shared) tx.markDirty({ blob: record.shared.digest });
      });
    },
  };
}
