// In-memory implementations of core's metadata and content interfaces, for testing the
// services without the real stores. They keep the contracts the services rely on: NotFound,
// AlreadyExists, FailedPrecondition (commit mismatches, non-empty namespaces), Unavailable
// (locked refs), InvalidArgument (bad identifiers, filters, fieldpaths), and namespaces that
// come into being with the first thing stored in them, as in containerd.
import { createHash, type Hash } from "node:crypto";
import {
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  lookupLabel,
  notFound,
  outOfRange,
  parseFilters,
  unavailable,
  validateIdentifier,
  type CallContext,
  type Container,
  type ContainerStore,
  type ContentInfo,
  type ContentStore,
  type ContentWriter,
  type Envelope,
  type EventPayload,
  type FieldLookup,
  type Image,
  type ImageStore,
  type IngestStatus,
  type Lease,
  type LeaseManager,
  type LeaseResource,
  type MetadataStore,
  type Namespace,
  type NamespaceStore,
  type OpContext,
  type Publisher,
  type ReadOptions,
  type Snapshotter,
  type WriterOptions,
} from "@berth/core";

type Labels = Readonly<Record<string, string>>;

const DIGEST = /^sha(256:[a-f0-9]{64}|384:[a-f0-9]{96}|512:[a-f0-9]{128})$/;

function checkDigest(digest: string, what: string): void {
  if (!DIGEST.test(digest)) throw invalidArgument(`${what} "${digest}": invalid digest`);
}

/** Applies containerd's label fieldpaths: "labels" replaces all, "labels.<k>" sets one ("" deletes). */
function applyLabels(current: Labels, incoming: Labels, paths: readonly string[]): Record<string, string> {
  if (paths.length === 0) return withoutEmpty(incoming);
  const out: Record<string, string> = { ...current };
  for (const path of paths) {
    if (path === "labels") return withoutEmpty(incoming);
    const key = path.slice("labels.".length);
    const value = Object.hasOwn(incoming, key) ? incoming[key] : undefined;
    if (value === undefined || value === "") delete out[key];
    else out[key] = value;
  }
  return out;
}

function withoutEmpty(labels: Labels): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([, v]) => v !== ""));
}

function matching<T>(items: Iterable<T>, filters: readonly string[], fields: (item: T) => FieldLookup): T[] {
  const filter = parseFilters(filters);
  return [...items].filter((item) => filter.match(fields(item)));
}

interface Ingest {
  readonly ref: string;
  chunks: Buffer[];
  size: number;
  /** Running digest of the bytes so far, so digest() stays cheap on large ingests. */
  hash: Hash;
  total: number;
  expected: string;
  readonly startedAt: Date;
  updatedAt: Date;
  locked: boolean;
}

interface Owned {
  readonly createdAt: Date;
  updatedAt: Date;
  labels: Record<string, string>;
}

interface HeldLease {
  lease: Lease;
  resources: LeaseResource[];
}

export interface MemoryMetadataOptions {
  /** How many bytes each chunk of read() holds; default 64 KiB. */
  readChunk?: number;
  /** What `snapshotters` serves; default none. */
  snapshotters?: ReadonlyMap<string, Snapshotter>;
}

/** A MetadataStore in memory. */
export class MemoryMetadata implements MetadataStore {
  readonly #labels = new Map<string, Record<string, string>>();
  readonly #images = new Map<string, Map<string, Image>>();
  readonly #containers = new Map<string, Map<string, Container>>();
  readonly #leases = new Map<string, Map<string, HeldLease>>();
  readonly #blobs = new Map<string, Uint8Array>();
  readonly #owned = new Map<string, Map<string, Owned>>();
  readonly #ingests = new Map<string, Map<string, Ingest>>();
  readonly #readChunk: number;

  readonly namespaces: NamespaceStore;
  readonly images: ImageStore;
  readonly containers: ContainerStore;
  readonly leases: LeaseManager;
  readonly content: ContentStore;
  readonly snapshotters: ReadonlyMap<string, Snapshotter>;

  constructor(opts: MemoryMetadataOptions = {}) {
    this.#readChunk = opts.readChunk ?? 64 << 10;
    this.snapshotters = opts.snapshotters ?? new Map();
    this.namespaces = this.#namespaceStore();
    this.images = this.#imageStore();
    this.containers = this.#containerStore();
    this.leases = this.#leaseManager();
    this.content = this.#contentStore();
  }

  /** The ingest table of a namespace (for tests that look behind the interface). */
  ingestRefs(namespace: string): string[] {
    return [...(this.#ingests.get(namespace)?.keys() ?? [])];
  }

  // A namespace exists once something is stored in it, as containerd's buckets do.
  #touch(namespace: string): void {
    validateIdentifier(namespace);
    if (!this.#labels.has(namespace)) this.#labels.set(namespace, {});
  }

  #table<V>(tables: Map<string, Map<string, V>>, namespace: string): Map<string, V> {
    let table = tables.get(namespace);
    if (!table) {
      table = new Map();
      tables.set(namespace, table);
    }
    return table;
  }

  #namespaceStore(): NamespaceStore {
    const get = (name: string): Namespace => {
      const labels = this.#labels.get(name);
      if (!labels) throw notFound(`namespace "${name}": not found`);
      return { name, labels: { ...labels } };
    };
    return {
      create: async (name, labels) => {
        validateIdentifier(name);
        if (this.#labels.has(name)) throw alreadyExists(`namespace "${name}": already exists`);
        this.#labels.set(name, withoutEmpty(labels));
        return get(name);
      },
      get: async (name) => get(name),
      list: async () => [...this.#labels.keys()].sort().map(get),
      update: async (ns, paths) => {
        const current = get(ns.name);
        for (const p of paths) if (p !== "labels" && !p.startsWith("labels.")) throw invalidArgument(`cannot update "${p}" field`);
        this.#labels.set(ns.name, applyLabels(current.labels, ns.labels, paths));
        return get(ns.name);
      },
      delete: async (name) => {
        get(name);
        const holds: string[] = [];
        if (this.#images.get(name)?.size) holds.push("images");
        if (this.#containers.get(name)?.size) holds.push("containers");
        if (this.#owned.get(name)?.size || this.#ingests.get(name)?.size) holds.push("content");
        if (this.#leases.get(name)?.size) holds.push("leases");
        if (holds.length > 0) throw failedPrecondition(`namespace "${name}" must be empty, but it still has ${holds.join(", ")}`);
        this.#labels.delete(name);
      },
    };
  }

  #imageStore(): ImageStore {
    const table = (ctx: OpContext) => this.#table(this.#images, ctx.namespace);
    const get = (ctx: OpContext, name: string) => {
      const image = table(ctx).get(name);
      if (!image) throw notFound(`image "${name}": not found`);
      return image;
    };
    const validate = (image: Omit<Image, "createdAt" | "updatedAt">) => {
      if (image.name === "") throw invalidArgument("image.Name: must not be empty");
      checkDigest(image.target.digest, "image.Target.Digest");
      if (image.target.mediaType === "") throw invalidArgument("image.Target.MediaType: must not be empty");
    };
    return {
      get: async (ctx, name) => get(ctx, name),
      list: async (ctx, filters) =>
        matching(table(ctx).values(), filters, (image) => (path) => {
          const [head, ...rest] = path;
          if (head === "name" && rest.length === 0) return image.name;
          if (head === "target" && rest.length === 1 && rest[0] === "digest") return image.target.digest;
          if (head === "target" && rest.length === 1 && rest[0] === "mediatype") return image.target.mediaType;
          if (head === "labels") return lookupLabel(image.labels, rest);
          return undefined;
        }),
      create: async (ctx, image) => {
        validate(image);
        this.#touch(ctx.namespace);
        if (table(ctx).has(image.name)) throw alreadyExists(`image "${image.name}": already exists`);
        const now = new Date();
        const created: Image = { ...image, labels: withoutEmpty(image.labels), createdAt: now, updatedAt: now };
        table(ctx).set(image.name, created);
        return created;
      },
      update: async (ctx, image, paths) => {
        const current = get(ctx, image.name);
        let next: Image = { ...current };
        if (paths.length === 0) {
          validate(image);
          next = { ...next, labels: withoutEmpty(image.labels), target: image.target };
        }
        for (const p of paths) {
          if (p === "labels" || p.startsWith("labels.")) next = { ...next, labels: applyLabels(next.labels, image.labels, [p]) };
          else if (p === "target") next = { ...next, target: image.target };
          else throw invalidArgument(`cannot update "${p}" field on image "${image.name}"`);
        }
        validate(next);
        next = { ...next, updatedAt: new Date() };
        table(ctx).set(image.name, next);
        return next;
      },
      delete: async (ctx, name) => {
        get(ctx, name);
        table(ctx).delete(name);
      },
    };
  }

  #containerStore(): ContainerStore {
    type In = Omit<Container, "createdAt" | "updatedAt">;
    const table = (ctx: OpContext) => this.#table(this.#containers, ctx.namespace);
    const get = (ctx: OpContext, id: string) => {
      const c = table(ctx).get(id);
      if (!c) throw notFound(`container "${id}": not found`);
      return c;
    };
    return {
      get: async (ctx, id) => get(ctx, id),
      list: async (ctx, filters) =>
        matching(table(ctx).values(), filters, (c) => (path) => {
          const [head, ...rest] = path;
          if (head === "id" && rest.length === 0) return c.id;
          if (head === "image" && rest.length === 0) return c.image;
          if (head === "runtime" && rest.length === 1 && rest[0] === "name") return c.runtime.name;
          if (head === "snapshotter" && rest.length === 0) return c.snapshotter;
          if (head === "labels") return lookupLabel(c.labels, rest);
          return undefined;
        }),
      create: async (ctx, c: In) => {
        validateIdentifier(c.id);
        if (c.runtime.name === "") throw invalidArgument("container.Runtime.Name must be set");
        this.#touch(ctx.namespace);
        if (table(ctx).has(c.id)) throw alreadyExists(`container "${c.id}": already exists`);
        const now = new Date();
        const created: Container = { ...c, createdAt: now, updatedAt: now };
        table(ctx).set(c.id, created);
        return created;
      },
      update: async (ctx, c: In, paths) => {
        const current = get(ctx, c.id);
        let next: Container = { ...current };
        if (paths.length === 0) {
          if (c.runtime.name !== current.runtime.name) throw invalidArgument("container.Runtime.Name field is immutable");
          if (c.snapshotter !== current.snapshotter) throw invalidArgument("container.Snapshotter field is immutable");
          next = { ...next, labels: withoutEmpty(c.labels), spec: c.spec, extensions: c.extensions, image: c.image, snapshotKey: c.snapshotKey };
        }
        for (const p of paths) {
          if (p === "labels" || p.startsWith("labels.")) next = { ...next, labels: applyLabels(next.labels, c.labels, [p]) };
          else if (p === "spec") next = { ...next, spec: c.spec };
          else if (p === "image") next = { ...next, image: c.image };
          else if (p === "snapshotkey") next = { ...next, snapshotKey: c.snapshotKey };
          else if (p === "extensions") next = { ...next, extensions: c.extensions };
          else if (p.startsWith("extensions.")) {
            const key = p.slice("extensions.".length);
            const ext = { ...next.extensions };
            const value = c.extensions[key];
            if (value) ext[key] = value;
            else delete ext[key];
            next = { ...next, extensions: ext };
          } else throw invalidArgument(`cannot update "${p}" field on container "${c.id}"`);
        }
        next = { ...next, updatedAt: new Date() };
        table(ctx).set(c.id, next);
        return next;
      },
      delete: async (ctx, id) => {
        get(ctx, id);
        table(ctx).delete(id);
      },
    };
  }

  #leaseManager(): LeaseManager {
    const table = (ctx: OpContext) => this.#table(this.#leases, ctx.namespace);
    const get = (ctx: OpContext, id: string) => {
      const held = table(ctx).get(id);
      if (!held) throw notFound(`lease "${id}": not found`);
      return held;
    };
    const checkResource = (r: LeaseResource) => {
      if (r.type === "content") checkDigest(r.id, "content resource");
      else if (r.type === "ingests" || r.type.startsWith("snapshots/")) {
        if (r.id === "") throw invalidArgument("resource id must not be empty");
      } else throw invalidArgument(`unsupported resource type ${r.type}`);
    };
    return {
      create: async (ctx, { id, labels }) => {
        validateIdentifier(id);
        this.#touch(ctx.namespace);
        if (table(ctx).has(id)) throw alreadyExists(`lease "${id}": already exists`);
        const lease: Lease = { id, labels: withoutEmpty(labels), createdAt: new Date() };
        table(ctx).set(id, { lease, resources: [] });
        return lease;
      },
      delete: async (ctx, id) => {
        get(ctx, id);
        table(ctx).delete(id);
      },
      list: async (ctx, filters) =>
        matching(
          [...table(ctx).values()].map((h) => h.lease),
          filters,
          (lease) => (path) => {
            const [head, ...rest] = path;
            if (head === "id" && rest.length === 0) return lease.id;
            if (head === "labels") return lookupLabel(lease.labels, rest);
            return undefined;
          },
        ),
      addResource: async (ctx, leaseId, resource) => {
        const held = get(ctx, leaseId);
        checkResource(resource);
        if (!held.resources.some((r) => r.id === resource.id && r.type === resource.type)) held.resources.push({ ...resource });
      },
      deleteResource: async (ctx, leaseId, resource) => {
        const held = get(ctx, leaseId);
        checkResource(resource);
        held.resources = held.resources.filter((r) => !(r.id === resource.id && r.type === resource.type));
      },
      listResources: async (ctx, leaseId) => get(ctx, leaseId).resources.map((r) => ({ ...r })),
    };
  }

  #contentStore(): ContentStore {
    const owned = (ctx: OpContext) => this.#table(this.#owned, ctx.namespace);
    const ingests = (ctx: OpContext) => this.#table(this.#ingests, ctx.namespace);
    const info = (ctx: OpContext, digest: string): ContentInfo => {
      const own = owned(ctx).get(digest);
      const blob = this.#blobs.get(digest);
      if (!own || !blob) throw notFound(`content digest ${digest}: not found`);
      return { digest, size: blob.length, createdAt: own.createdAt, updatedAt: own.updatedAt, labels: { ...own.labels } };
    };
    const statusOf = (ingest: Ingest): IngestStatus => ({
      ref: ingest.ref,
      offset: ingest.size,
      total: ingest.total,
      expected: ingest.expected,
      startedAt: ingest.startedAt,
      updatedAt: ingest.updatedAt,
    });
    const bytes = (ingest: Ingest) => Buffer.concat(ingest.chunks, ingest.size);

    const writer = (ctx: OpContext, ingest: Ingest): ContentWriter => {
      let closed = false;
      const open = () => {
        if (closed) throw failedPrecondition(`writer for ref ${ingest.ref} is closed`);
      };
      // Only this writer's own hold is released: a stale writer never frees a later one's.
      const release = () => {
        if (closed) return;
        closed = true;
        ingest.locked = false;
      };
      return {
        ref: ingest.ref,
        status: async () => (open(), statusOf(ingest)),
        write: async (data) => {
          open();
          ingest.chunks.push(Buffer.from(data));
          ingest.hash.update(data);
          ingest.size += data.length;
          ingest.updatedAt = new Date();
          return ingest.size;
        },
        truncate: async (size) => {
          open();
          if (size < 0 || size > ingest.size) throw invalidArgument(`cannot truncate ${ingest.ref} to ${size}`);
          ingest.chunks = [bytes(ingest).subarray(0, size)];
          ingest.hash = createHash("sha256").update(ingest.chunks[0]!);
          ingest.size = size;
          ingest.updatedAt = new Date();
        },
        digest: () => `sha256:${ingest.hash.copy().digest("hex")}`,
        // Commit releases the writer whatever the outcome, as core's contract says.
        commit: async (size, expected, labels) => {
          open();
          release();
          const data = bytes(ingest);
          if (size > 0 && size !== data.length) {
            throw failedPrecondition(`unexpected commit size ${data.length}, expected ${size}`);
          }
          const actual = `sha256:${ingest.hash.copy().digest("hex")}`;
          if (expected !== "" && expected !== actual) {
            throw failedPrecondition(`unexpected commit digest ${actual}, expected ${expected}`);
          }
          ingests(ctx).delete(ingest.ref);
          if (owned(ctx).has(actual)) throw alreadyExists(`content ${actual}: already exists`);
          this.#blobs.set(actual, new Uint8Array(data));
          const now = new Date();
          owned(ctx).set(actual, { createdAt: now, updatedAt: now, labels: withoutEmpty(labels ?? {}) });
          return info(ctx, actual);
        },
        close: async () => release(),
      };
    };

    return {
      info: async (ctx, digest) => info(ctx, digest),
      update: async (ctx, { digest, labels }, paths) => {
        const current = info(ctx, digest);
        for (const p of paths) {
          if (p !== "labels" && !p.startsWith("labels.")) throw invalidArgument(`cannot update "${p}" field on content info "${digest}"`);
        }
        const own = owned(ctx).get(digest)!;
        own.labels = applyLabels(current.labels, labels, paths);
        own.updatedAt = new Date();
        return info(ctx, digest);
      },
      walk: (ctx, filters) => {
        const found = matching(
          [...owned(ctx).keys()].map((d) => info(ctx, d)),
          filters,
          (i) => (path) => {
            const [head, ...rest] = path;
            if (head === "digest" && rest.length === 0) return i.digest;
            if (head === "size" && rest.length === 0) return String(i.size);
            if (head === "labels") return lookupLabel(i.labels, rest);
            return undefined;
          },
        );
        return (async function* () {
          yield* found;
        })();
      },
      delete: async (ctx, digest) => {
        info(ctx, digest);
        owned(ctx).delete(digest);
        if (![...this.#owned.values()].some((t) => t.has(digest))) this.#blobs.delete(digest);
      },
      read: (ctx, digest, opts: ReadOptions = {}) => {
        const size = info(ctx, digest).size;
        const blob = this.#blobs.get(digest)!;
        const offset = opts.offset ?? 0;
        if (offset > size) throw outOfRange(`read past object length ${size} bytes`);
        const end = opts.size ? Math.min(size, offset + opts.size) : size;
        const chunk = this.#readChunk;
        return (async function* () {
          for (let at = offset; at < end; at += chunk) yield blob.slice(at, Math.min(end, at + chunk));
        })();
      },
      writer: async (ctx, opts: WriterOptions) => {
        if (opts.ref === "") throw invalidArgument("ref must not be empty");
        if (opts.expected && owned(ctx).has(opts.expected)) throw alreadyExists(`content ${opts.expected}: already exists`);
        this.#touch(ctx.namespace);
        let ingest = ingests(ctx).get(opts.ref);
        if (ingest?.locked) throw unavailable(`ref ${opts.ref} locked`);
        if (!ingest) {
          const now = new Date();
          ingest = { ref: opts.ref, chunks: [], size: 0, hash: createHash("sha256"), total: 0, expected: "", startedAt: now, updatedAt: now, locked: false };
          ingests(ctx).set(opts.ref, ingest);
        }
        if (opts.total) ingest.total = opts.total;
        if (opts.expected) ingest.expected = opts.expected;
        ingest.locked = true;
        return writer(ctx, ingest);
      },
      status: async (ctx, ref) => {
        const ingest = ingests(ctx).get(ref);
        if (!ingest) throw notFound(`ref ${ref}: not found`);
        return statusOf(ingest);
      },
      listStatuses: async (ctx, filters) =>
        matching([...ingests(ctx).values()], filters, (i) => (path) => (path.length === 1 && path[0] === "ref" ? i.ref : undefined)).map(
          statusOf,
        ),
      abort: async (ctx, ref) => {
        if (!ingests(ctx).delete(ref)) throw notFound(`ref ${ref}: not found`);
      },
    };
  }
}

/** A publisher that remembers what it was given. */
export class RecordingPublisher implements Publisher {
  readonly events: Omit<Envelope, "timestamp">[] = [];
  async publish(namespace: string, topic: string, event: EventPayload): Promise<void> {
    this.events.push({ namespace, topic, event });
  }
  topics(): string[] {
    return this.events.map((e) => `${e.namespace} ${e.topic}`);
  }
}

/** A CallContext as the gRPC server builds it. */
export function callContext(opts: { namespace?: string; lease?: string; signal?: AbortSignal } = {}): CallContext {
  const metadata = new Map<string, string[]>();
  if (opts.namespace !== undefined) metadata.set("containerd-namespace", [opts.namespace]);
  if (opts.lease !== undefined) metadata.set("containerd-lease", [opts.lease]);
  return { namespace: opts.namespace, metadata, signal: opts.signal ?? new AbortController().signal };
}
