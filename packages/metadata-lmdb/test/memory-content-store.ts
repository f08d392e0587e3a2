import { createHash } from "node:crypto";
import {
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  notFound,
  outOfRange,
  parseFilters,
  unavailable,
  type ContentInfo,
  type ContentStore,
  type ContentWriter,
  type IngestStatus,
} from "@berth/core";

/**
 * A backend ContentStore in memory, with the local store's contract (ignores namespaces, locks
 * refs, AlreadyExists on a known expected digest or an existing blob at commit), plus counters
 * the tests read to prove what was (not) uploaded.
 */
export interface MemoryContentStore extends ContentStore {
  readonly blobs: Map<string, { data: Buffer; info: ContentInfo }>;
  readonly ingests: Map<string, Ingest>;
  /** Bytes received through writers. */
  bytesWritten: number;
  commits: number;
}

interface Ingest {
  data: Buffer;
  total: number;
  expected: string;
  startedAt: Date;
  updatedAt: Date;
  locked: boolean;
}

export const sha256 = (data: Uint8Array | string) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

export function createMemoryContentStore(): MemoryContentStore {
  const blobs = new Map<string, { data: Buffer; info: ContentInfo }>();
  const ingests = new Map<string, Ingest>();

  const statusOf = (ref: string, i: Ingest): IngestStatus => ({
    ref,
    offset: i.data.length,
    total: i.total,
    expected: i.expected,
    startedAt: i.startedAt,
    updatedAt: i.updatedAt,
  });

  const store: MemoryContentStore = {
    blobs,
    ingests,
    bytesWritten: 0,
    commits: 0,

    async info(_ctx, digest) {
      const blob = blobs.get(digest);
      if (!blob) throw notFound(`content ${digest} not found`);
      return blob.info;
    },

    async update(_ctx, info, _fieldpaths) {
      const blob = blobs.get(info.digest);
      if (!blob) throw notFound(`content ${info.digest} not found`);
      blob.info = { ...blob.info, labels: { ...info.labels }, updatedAt: new Date() };
      return blob.info;
    },

    async *walk(_ctx, filters) {
      const filter = parseFilters(filters);
      for (const { info } of [...blobs.values()]) {
        if (filter.match((p) => (p[0] === "digest" ? info.digest : p[0] === "size" ? String(info.size) : undefined))) {
          yield info;
        }
      }
    },

    async delete(_ctx, digest) {
      if (!blobs.delete(digest)) throw notFound(`content ${digest} not found`);
    },

    async *read(_ctx, digest, opts) {
      const blob = blobs.get(digest);
      if (!blob) throw notFound(`content ${digest} not found`);
      const offset = opts?.offset ?? 0;
      if (offset > blob.data.length) throw outOfRange(`offset ${offset} past end`);
      const end = opts?.size ? Math.min(blob.data.length, offset + opts.size) : blob.data.length;
      for (let at = offset; at < end; at += 3) yield new Uint8Array(blob.data.subarray(at, Math.min(end, at + 3)));
    },

    async writer(_ctx, opts) {
      if (!opts.ref) throw invalidArgument("ref must not be empty");
      if (opts.expected && blobs.has(opts.expected)) throw alreadyExists(`content ${opts.expected} already exists`);
      let ingest = ingests.get(opts.ref);
      if (ingest?.locked) throw unavailable(`ref ${opts.ref} locked`);
      const now = new Date();
      if (!ingest) {
        ingest = { data: Buffer.alloc(0), total: opts.total ?? 0, expected: opts.expected ?? "", startedAt: now, updatedAt: now, locked: false };
        ingests.set(opts.ref, ingest);
      }
      ingest.locked = true;
      const ref = opts.ref;
      const current = ingest;
      let open = true;
      const writer: ContentWriter = {
        ref,
        status: async () => statusOf(ref, current),
        async write(data) {
          if (!open) throw failedPrecondition("writer closed");
          current.data = Buffer.concat([current.data, data]);
          current.updatedAt = new Date();
          store.bytesWritten += data.length;
          return current.data.length;
        },
        async truncate(size) {
          if (!open) throw failedPrecondition("writer closed");
          current.data = current.data.subarray(0, size);
        },
        digest: () => sha256(current.data),
        async commit(size, expected, labels) {
          if (!open) throw failedPrecondition("writer closed");
          if (size !== 0 && size !== current.data.length) throw failedPrecondition(`size ${current.data.length} != ${size}`);
          const digest = sha256(current.data);
          if (expected && expected !== digest) throw failedPrecondition(`digest ${digest} != ${expected}`);
          open = false;
          current.locked = false;
          ingests.delete(ref);
          if (blobs.has(digest)) throw alreadyExists(`content ${digest} already exists`);
          const at = new Date();
          const info = { digest, size: current.data.length, createdAt: at, updatedAt: at, labels: { ...labels } };
          blobs.set(digest, { data: Buffer.from(current.data), info });
          store.commits++;
          return info;
        },
        async close() {
          open = false;
          current.locked = false;
        },
      };
      return writer;
    },

    async status(_ctx, ref) {
      const ingest = ingests.get(ref);
      if (!ingest) throw notFound(`ingest ${ref} not found`);
      return statusOf(ref, ingest);
    },

    async listStatuses(_ctx, filters) {
      const filter = parseFilters(filters);
      return [...ingests].filter(([ref]) => filter.match((p) => (p[0] === "ref" ? ref : undefined))).map(([ref, i]) => statusOf(ref, i));
    },

    async abort(_ctx, ref) {
      const ingest = ingests.get(ref);
      if (!ingest) throw notFound(`ingest ${ref} not found`);
      if (ingest.locked) throw unavailable(`ref ${ref} locked`);
      ingests.delete(ref);
    },
  };
  return store;
}
